import { Writable } from 'node:stream';
import test from 'ava';
import Koa from 'koa';
import { sql } from 'kysely';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { requestIds } from '../../src/http/request-scope.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { isWriteStatement, statementsOf } from '../support/statement-count.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { startUmbral } from '../support/umbral-server.ts';

// What operators rely on: /metrics, /healthz and /readyz, request ids, a fast 503 while the
// database is unreachable, and the number of SQL statements a login costs (the bench reports it).

/**
 * SQL statements run by one complete password login (the portal's client already cached): GET
 * /auth, the identifier and password pages and their POSTs, the authorization's resumption, the
 * code exchange. It was 30 (13 of them writes, each its own commit) before the lean sign-in path
 * of issue 15; 22 after it; now 20, of which 7 write (the code exchange reads its code, grant and
 * session in one statement); 18 since the code exchange reads the account's claims and the grant's
 * organization in that statement too. A change that adds one must lower it elsewhere or raise this on purpose.
 */
const LOGIN_STATEMENTS = 18;

/**
 * A refresh of a confidential first-party client's token (not rotated): the token with its grant,
 * session, account's claims and grant's organization (one statement), and the new access token. It
 * was 4 before the account and the organization were read with the token.
 */
const REFRESH_STATEMENTS = 2;

const TOKEN = 'metrics-token-0123456789abcdef';
const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'correct horse battery';
// PostgreSQL when the run has it (through a proxy the test can cut); else PGlite, without the cut.
const kind = STORES.includes('postgres') ? 'postgres' : 'pglite';

async function world() {
  const store = await createTestStore(kind);
  const proxy = store.databaseUrl ? await startTcpProxy(hostOf(store.databaseUrl)) : undefined;
  const proxied = proxy ? { ...store, databaseUrl: proxy.through(store.databaseUrl!) } : store;
  const server = await startUmbral(proxied, { METRICS_TOKEN: TOKEN });
  const portal = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
  const machine = await server.registerClient({ clientId: 'machine', grantTypes: ['client_credentials'] });
  await server.users.create({ email: 'ana@example.com', password: PASSWORD, emailVerified: true });
  const rp = await RelyingParty.discover(server.issuer, 'portal', portal.client_secret, REDIRECT);
  const clientCredentials = () =>
    fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`machine:${machine.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
  const scrape = async () =>
    (await fetch(`${server.issuer}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  return {
    server,
    proxy,
    rp,
    clientCredentials,
    scrape,
    async close() {
      await server.stop();
      await proxy?.close();
      await store.cleanup();
    },
  };
}

function hostOf(url: string) {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 5432) };
}

/** The value of one series in a Prometheus text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}

let shared: Awaited<ReturnType<typeof world>> | undefined;
const getWorld = async () => (shared ??= await world());
test.after.always(async () => shared?.close());

test.serial(`[${kind}] /metrics needs the bearer token and counts requests, tokens and sign-ins`, async (t) => {
  const { server, rp, clientCredentials, scrape } = await getWorld();
  t.is((await fetch(`${server.issuer}/metrics`)).status, 401);
  const wrong = await fetch(`${server.issuer}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
  t.is(wrong.status, 401);
  t.is(wrong.headers.get('www-authenticate'), 'Bearer realm="metrics"');

  for (let i = 0; i < 3; i++) t.is((await clientCredentials()).status, 200);
  const browser = new HttpBrowser();
  const { callback, request } = await rp.signIn(browser, 'ana@example.com', PASSWORD);
  await rp.exchange(callback.url, request);
  const refused = await rp.signIn(new HttpBrowser(), 'ana@example.com', 'wrong horse battery');
  t.false(refused.callback.url.startsWith(REDIRECT));

  const text = await scrape();
  t.is(sample(text, 'umbral_tokens_issued_total', { grant: 'client_credentials' }), 3);
  t.is(sample(text, 'umbral_tokens_issued_total', { grant: 'authorization_code' }), 1);
  t.is(sample(text, 'umbral_http_requests_total', { route: '/token', status: '200' }), 4);
  t.is(sample(text, 'umbral_http_request_duration_seconds_count', { method: 'POST', route: '/token' }), 4);
  t.true(sample(text, 'umbral_http_requests_total', { route: '/interaction/:uid/password', status: '303' }) >= 1);
  t.notRegex(text, /route="\/interaction\/(?!:uid)/, 'route templates, never raw paths with ids');
  t.is(sample(text, 'umbral_sign_ins_total', { method: 'pwd', outcome: 'succeeded' }), 1);
  t.is(sample(text, 'umbral_sign_ins_total', { method: 'pwd', outcome: 'failed' }), 1);
  t.regex(text, /umbral_mail_queue_messages\{status="pending"\} \d+/);
  t.regex(text, /umbral_webhook_queue_messages\{status="pending"\} 0/);
  t.regex(text, /nodejs_eventloop_lag_p99_seconds \d/);
  if (kind === 'postgres') t.true(sample(text, 'umbral_db_pool_connections', { state: 'total' }) >= 1);
  server.umbral.metrics.reportWebhookQueue(() => ({ pending: 7, failed: 2 }));
  t.regex(await scrape(), /umbral_webhook_queue_messages\{status="failed"\} 2/);
});

test.serial(`[${kind}] /healthz says alive, /readyz says the database answers and is migrated`, async (t) => {
  const { server } = await getWorld();
  t.deepEqual(await (await fetch(`${server.issuer}/healthz`)).json(), { status: 'ok', database: kind });
  const ready = await fetch(`${server.issuer}/readyz`);
  t.is(ready.status, 200);
  t.deepEqual(await ready.json(), { status: 'ready', database: kind });
  const db = server.umbral.storage.db;
  await sql`delete from umbral_migrations where name = '0014-audit-events'`.execute(db);
  try {
    const pending = await fetch(`${server.issuer}/readyz`);
    t.is(pending.status, 503);
    t.deepEqual(await pending.json(), { status: 'migrations_pending', database: kind, pending: ['0014-audit-events'] });
  } finally {
    await sql`insert into umbral_migrations (name, timestamp) values ('0014-audit-events', ${new Date().toISOString()})`.execute(
      db,
    );
  }
  t.is((await fetch(`${server.issuer}/readyz`)).status, 200);
});

test.serial(`[${kind}] every response has a request id; a well-formed incoming one is kept`, async (t) => {
  const { server } = await getWorld();
  const own = await fetch(`${server.issuer}/healthz`);
  t.regex(own.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  const kept = await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': 'lb-7f3a.42:1' } });
  t.is(kept.headers.get('x-request-id'), 'lb-7f3a.42:1');
  for (const forged of ['a b', '<script>', 'x'.repeat(129), '']) {
    const replaced = await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': forged } });
    t.regex(replaced.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/, JSON.stringify(forged));
  }
});

test.serial('log lines written while serving a request carry its id', async (t) => {
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const app = new Koa();
  app.use(requestIds());
  app.use(async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 1)); // across an await, as real handlers log
    logger.info('inside');
    ctx.body = 'ok';
  });
  const server = app.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-request-id': 'req-1' } });
  t.is(response.headers.get('x-request-id'), 'req-1');
  logger.info('outside');
  t.is(JSON.parse(lines[0]!).requestId, 'req-1');
  t.is(JSON.parse(lines[1]!).requestId, undefined);
});

test.serial(`[${kind}] a complete password login runs at most ${LOGIN_STATEMENTS} SQL statements`, async (t) => {
  const { rp } = await getWorld();
  await rp.signIn(new HttpBrowser(), 'ana@example.com', PASSWORD); // the portal's client is cached from here on
  const statements = await statementsOf(async () => {
    const { callback, request } = await rp.signIn(new HttpBrowser(), 'ana@example.com', PASSWORD);
    const tokens = await rp.exchange(callback.url, request);
    t.truthy(tokens.id_token);
  });
  t.true(
    statements.length <= LOGIN_STATEMENTS,
    `${statements.length} > ${LOGIN_STATEMENTS}:\n${statements.join('\n')}`,
  );
  const writes = statements.filter(isWriteStatement);
  // The interaction (twice), last_login_at, the sign-in's webhook deliveries, session activity,
  // the resumption's one statement and the code exchange's one statement.
  t.true(writes.length <= 7, `${writes.length} writes (each its own commit):\n${writes.join('\n')}`);
});

test.serial(
  `[${kind}] a refresh runs at most ${REFRESH_STATEMENTS} statements and client_credentials one`,
  async (t) => {
    const { rp, clientCredentials } = await getWorld();
    const { callback, request } = await rp.signIn(new HttpBrowser(), 'ana@example.com', PASSWORD);
    const tokens = await rp.exchange(callback.url, request);
    await rp.refresh(tokens.refresh_token!); // caches warm
    const refresh = await statementsOf(async () => void (await rp.refresh(tokens.refresh_token!)));
    t.true(refresh.length <= REFRESH_STATEMENTS, `${refresh.length} > ${REFRESH_STATEMENTS}:\n${refresh.join('\n')}`);
    await clientCredentials(); // the client cached
    const cc = await statementsOf(async () => void t.is((await clientCredentials()).status, 200));
    t.is(cc.length, 1, cc.join('\n'));
  },
);

if (kind === 'postgres') {
  test.serial(
    '[postgres] with the database unreachable requests fail fast with 503 and recover by themselves',
    async (t) => {
      const { proxy, clientCredentials, server } = await getWorld();
      t.is((await clientCredentials()).status, 200);
      proxy!.cut();
      try {
        for (const request of [clientCredentials, () => fetch(`${server.issuer}/unlock?token=${'A'.repeat(43)}`)]) {
          const started = performance.now();
          const response = await request();
          t.is(response.status, 503);
          t.is(response.headers.get('retry-after'), '2');
          t.true(performance.now() - started < 2000, 'answered without waiting out a timeout');
        }
        t.is((await fetch(`${server.issuer}/readyz`)).status, 503);
        t.is((await fetch(`${server.issuer}/healthz`)).status, 200, 'alive: no restart needed');
      } finally {
        proxy!.restore();
      }
      t.is((await clientCredentials()).status, 200, 'the pool reconnects on its own');
      t.is((await fetch(`${server.issuer}/readyz`)).status, 200);
    },
  );
}

test('the node settings: defaults, and each bad value named with what it must be', (t) => {
  const defaults = loadConfig({}).node;
  t.deepEqual(defaults, {
    host: undefined,
    webConcurrency: 1,
    metricsToken: undefined,
    metricsPort: undefined,
    keyReloadSeconds: 30,
    databasePoolSize: 10,
  });
  const set = loadConfig({
    HOST: '[::1]',
    WEB_CONCURRENCY: '4',
    DATABASE_URL: 'postgres://db/umbral',
    METRICS_PORT: '9464',
    METRICS_TOKEN: TOKEN,
    KEY_RELOAD_INTERVAL_SECONDS: '5',
    DATABASE_POOL_SIZE: '20',
  }).node;
  t.deepEqual(set, {
    host: '::1',
    webConcurrency: 4,
    metricsToken: TOKEN,
    metricsPort: 9464,
    keyReloadSeconds: 5,
    databasePoolSize: 20,
  });
  const refused: Array<[Record<string, string>, string, RegExp]> = [
    [{ HOST: 'not a host!' }, 'HOST', /IP address/],
    [{ WEB_CONCURRENCY: '0' }, 'WEB_CONCURRENCY', /1 to 64/],
    [{ WEB_CONCURRENCY: '2' }, 'WEB_CONCURRENCY', /needs DATABASE_URL/],
    [{ WEB_CONCURRENCY: '2', DATABASE_URL: 'postgres://db/u', METRICS_TOKEN: TOKEN }, 'METRICS_TOKEN', /METRICS_PORT/],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN', /at least 16/],
    [{ METRICS_PORT: '3000' }, 'METRICS_PORT', /differ from PORT/],
    [{ KEY_RELOAD_INTERVAL_SECONDS: '0' }, 'KEY_RELOAD_INTERVAL_SECONDS', /1 to 3600/],
    [{ DATABASE_POOL_SIZE: 'many' }, 'DATABASE_POOL_SIZE', /whole number/],
  ];
  for (const [env, variable, message] of refused) {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError }, JSON.stringify(env));
    t.is((error as ConfigError).variable, variable);
    t.regex(error!.message, message);
  }
});
