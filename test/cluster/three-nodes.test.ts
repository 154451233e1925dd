import { randomBytes } from 'node:crypto';
import test from 'ava';
import { decodeProtectedHeader } from 'jose';
import { Kysely, PostgresDialect } from 'kysely';
import * as oidc from 'openid-client';
import pg from 'pg';
import type { Database } from '../../src/storage/schema.ts';
import { runUmbral } from '../cli/umbral-cli.ts';
import { startSmtpServer, type TestSmtpServer } from '../notify/smtp-test-server.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type TestStore } from '../support/stores.ts';
import {
  freePort,
  startNode,
  startRoundRobinProxy,
  type UmbralNode,
  until,
  untilReady,
} from '../support/umbral-nodes.ts';

// Three Umbral processes (the compiled server; the third runs two workers, WEB_CONCURRENCY=2) on one
// PostgreSQL database and one Redis, behind a round-robin proxy: every request of a flow goes to
// another node. They share ISSUER, SECRET_ENCRYPTION_KEY, the database and Redis, and nothing else.

process.env['DATABASE_URL'] ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const REDIRECT = 'http://127.0.0.1:9/cb';
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';
const PASSWORD = 'correct horse battery';
const SECRET = 'portal-secret-0123456789abcdef0123456789';
const MACHINE_SECRET = 'machine-secret-0123456789abcdef012345678';

interface World {
  store: TestStore;
  db: Kysely<Database>;
  nodes: UmbralNode[];
  proxy: Awaited<ReturnType<typeof startRoundRobinProxy>>;
  smtp: TestSmtpServer;
  issuer: string;
  cli(args: string[]): Promise<string>;
  rp: RelyingParty;
  keysAtStart: { signing: number; cookie: number };
}

let world: Promise<World> | undefined;

async function startWorld(): Promise<World> {
  const store = await createTestStore('postgres');
  // As the server's pool does (src/storage/database.ts): a connection ended by the database (the
  // teardown drops it with force while killed nodes' backends linger) must not end this worker.
  const pool = new pg.Pool({ connectionString: store.databaseUrl, max: 2 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const smtp = await startSmtpServer();
  const ports = [await freePort(), await freePort(), await freePort()];
  const proxy = await startRoundRobinProxy(ports);
  const issuer = `http://localhost:${proxy.port}`;
  const shared = {
    DATABASE_URL: store.databaseUrl!,
    DATA_DIR: store.dataDir,
    REDIS_URL,
    REDIS_KEY_PREFIX: `umbral-t-${randomBytes(4).toString('hex')}:`,
    ISSUER: issuer,
    SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SMTP_URL: smtp.url,
    ORG_SCHEDULER_INTERVAL_SECONDS: '1',
    KEY_RELOAD_INTERVAL_SECONDS: '2',
    HOST: '127.0.0.1',
  };
  // All at the same moment, on a database without keys: they must agree on one set.
  const nodes = ports.map((port, i) => startNode(i === 2 ? { ...shared, WEB_CONCURRENCY: '2' } : shared, port));
  await untilReady(nodes);
  const count = async (table: 'signing_keys' | 'cookie_keys') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const keysAtStart = { signing: await count('signing_keys'), cookie: await count('cookie_keys') };
  const cli = async (args: string[]) => {
    const result = await runUmbral(args, { env: shared });
    if (result.code !== 0) throw new Error(`umbral ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  await cli([
    'clients',
    'add',
    '--client-id',
    'portal',
    '--client-secret',
    SECRET,
    '--redirect-uri',
    REDIRECT,
    '--post-logout-redirect-uri',
    AFTER_LOGOUT,
    '--first-party',
    '--single-session',
  ]);
  await cli([
    'clients',
    'add',
    '--client-id',
    'machine',
    '--client-secret',
    MACHINE_SECRET,
    '--grant-types',
    'client_credentials',
  ]);
  for (const email of ['ana@example.com', 'eve@example.com', 'bob@example.com', 'carla@example.com']) {
    await cli(['users', 'add', '--email', email, '--password', PASSWORD, '--verified']);
  }
  const rp = await RelyingParty.discover(issuer, 'portal', SECRET, REDIRECT);
  return { store, db, nodes, proxy, smtp, issuer, cli, rp, keysAtStart };
}

const getWorld = () => (world ??= startWorld());

test.after.always(async () => {
  const w = await world?.catch(() => undefined);
  if (!w) return;
  for (const node of w.nodes) node.child.kill('SIGKILL');
  await w.proxy.close();
  await w.smtp.close();
  await w.db.destroy();
  await w.store.cleanup();
});

const clientCredentials = (url: string) =>
  fetch(`${url}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`machine:${MACHINE_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });

test.serial('nodes starting together on an empty database make one set of keys', async (t) => {
  const { keysAtStart } = await getWorld();
  t.deepEqual(keysAtStart, { signing: 4, cookie: 1 }, 'one key per alg, one cookie key, not one set per node');
});

test.serial('sign-in, code exchange, refresh, userinfo and logout, each request on another node', async (t) => {
  const { rp, proxy, issuer } = await getWorld();
  const browser = new HttpBrowser();
  const before = proxy.served.length;
  const { callback, request } = await rp.signIn(browser, 'ana@example.com', PASSWORD);
  t.true(callback.url.startsWith(REDIRECT), callback.body);
  const tokens = await rp.exchange(callback.url, request);
  const refreshed = await rp.refresh(tokens.refresh_token!);
  t.is(refreshed.claims()!.sub, tokens.claims()!.sub);
  const userinfo = await oidc.fetchUserInfo(rp.config, refreshed.access_token, tokens.claims()!.sub);
  t.is(userinfo.email, 'ana@example.com');

  const endSession = new URL(`${issuer}/session/end`);
  endSession.search = new URLSearchParams({
    id_token_hint: refreshed.id_token!,
    post_logout_redirect_uri: AFTER_LOGOUT,
  }).toString();
  const confirm = await browser.open(endSession.href, AFTER_LOGOUT);
  const done = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' }, AFTER_LOGOUT);
  t.true(done.url.startsWith(AFTER_LOGOUT));
  const silent = await rp.authorizationRequest({ prompt: 'none' });
  t.is(new URL((await browser.open(silent.url, REDIRECT)).url).searchParams.get('error'), 'login_required');

  const served = proxy.served.slice(before);
  t.true(served.length >= 12);
  t.true(
    served.every((request, i) => i === 0 || request.port !== served[i - 1]!.port),
    'no two requests in a row on one node',
  );
});

test.serial('throttling is shared: failures on every node add up', async (t) => {
  const { rp, proxy, issuer } = await getWorld();
  // Five failures are free, then each asks for a wait (1 s, 2 s, 4 s…): an attempt within it is
  // refused with 429. Attempts keep coming until one is (a slow machine may let one wait pass).
  const before = proxy.served.length;
  let attempts = 0;
  let status = 0;
  while (status !== 429 && attempts < 9) {
    attempts++;
    status = (await rp.signIn(new HttpBrowser(), 'eve@example.com', 'wrong horse battery')).callback.status;
    if (status !== 429) t.is(status, 200, `attempt ${attempts} answers the password page again`);
    // A sign-in is 6 requests: one more moves the next password check to another node.
    await fetch(`${issuer}/healthz`);
  }
  t.is(status, 429, 'refused once the failures counted on every node passed the free ones');
  // The passwords were checked on every node, none of which saw more than the free five alone.
  const checks = proxy.served.slice(before).filter((r) => r.method === 'POST' && r.path.endsWith('/password'));
  const perNode = [...new Set(checks.map((r) => r.port))].map((port) => checks.filter((r) => r.port === port).length);
  t.is(perNode.length, 3, 'every node checked some');
  t.true(Math.max(...perNode) <= 5, `no node alone saw past the free failures: ${perNode.join(', ')}`);
});

test.serial('the single-session policy holds across nodes', async (t) => {
  const { rp } = await getWorld();
  const first = new HttpBrowser();
  await rp.signIn(first, 'bob@example.com', PASSWORD);
  const again = await rp.authorizationRequest({ prompt: 'none' });
  t.true((await first.open(again.url, REDIRECT)).url.includes('code='), 'signed in');
  await rp.signIn(new HttpBrowser(), 'bob@example.com', PASSWORD);
  const silent = await rp.authorizationRequest({ prompt: 'none' });
  const answer = await first.open(silent.url, REDIRECT);
  t.is(new URL(answer.url).searchParams.get('error'), 'login_required', 'the first session ended');
});

test.serial('each queued email is sent once and each scheduled organization event happens once', async (t) => {
  const { cli, db, smtp, issuer } = await getWorld();
  smtp.forget();
  // Three password resets, each asked on another node.
  for (const email of ['ana@example.com', 'bob@example.com', 'carla@example.com']) {
    const browser = new HttpBrowser();
    const form = await browser.open(`${issuer}/password/forgot`);
    const sent = await browser.submit(form, '/password/forgot', { email });
    t.is(sent.status, 200);
    t.true(sent.url.endsWith('/password/forgot/sent'));
  }
  // An activation two seconds ahead: every node's scheduler (every second) sees it come due.
  const activatesAt = new Date(Date.now() + 2000).toISOString();
  const added = JSON.parse(
    await cli(['orgs', 'add', '--name', 'Acme', '--activates-at', activatesAt, '--admin', 'dora@example.com']),
  ) as { id: string };
  const welcomed = await until('the welcome', async () => {
    const org = await db
      .selectFrom('organizations')
      .select('welcomed_at')
      .where('id', '=', added.id)
      .executeTakeFirst();
    return org?.welcomed_at ?? undefined;
  });
  t.truthy(welcomed);
  const rows = await until('every email sent', async () => {
    const queued = await db.selectFrom('mail_queue').select(['id', 'status', 'to_address']).execute();
    return queued.length >= 4 && queued.every((r) => r.status === 'sent') ? queued : undefined;
  });
  t.deepEqual(rows.map((r) => r.to_address).sort(), [
    'ana@example.com',
    'bob@example.com',
    'carla@example.com',
    'dora@example.com',
  ]);
  // Three schedulers saw the activation due: one carried it out, so one welcome was queued.
  t.is(rows.filter((r) => r.to_address === 'dora@example.com').length, 1);
  t.is(smtp.received.length, 4, 'one message per queued email: each was claimed by one node');
  t.is(new Set(smtp.received.map((m) => m.messageId)).size, 4);
});

test.serial('a key rotated through the CLI is published and used by every node without a restart', async (t) => {
  const { cli, nodes, rp } = await getWorld();
  const browser = new HttpBrowser();
  const { callback, request } = await rp.signIn(browser, 'carla@example.com', PASSWORD);
  const tokens = await rp.exchange(callback.url, request);
  const oldKid = decodeProtectedHeader(tokens.id_token!).kid!;
  const rotation = JSON.parse(await cli(['keys', 'rotate'])) as { added: string[]; retired: string[] };
  t.true(rotation.retired.includes(oldKid));
  const started = Date.now();
  for (const node of nodes) {
    await until(
      `node ${node.port} to publish the new keys`,
      async () => {
        const { keys } = (await (await fetch(`${node.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
        const kids = keys.map((k) => k.kid);
        return rotation.added.every((kid) => kids.includes(kid)) && kids.includes(oldKid) ? true : undefined;
      },
      60_000,
    );
  }
  t.log(`published by every node ${Date.now() - started} ms after the rotation`);
  // Each refresh lands on another node: every one signs with the new RS256 key.
  for (let i = 0; i < 4; i++) {
    const refreshed = await rp.refresh(tokens.refresh_token!);
    t.true(rotation.added.includes(decodeProtectedHeader(refreshed.id_token!).kid!));
  }
});

test.serial('a key change nobody announced reaches every node by the scheduled reload', async (t) => {
  const { db, nodes } = await getWorld();
  // A retired key whose publication ends, written straight to the database: no change notice.
  const retired = await db
    .selectFrom('signing_keys')
    .select('kid')
    .where('retired_at', 'is not', null)
    .executeTakeFirstOrThrow();
  await db
    .updateTable('signing_keys')
    .set({ unpublish_at: new Date(Date.now() - 1000) })
    .where('kid', '=', retired.kid)
    .execute();
  for (const node of nodes) {
    await until(`node ${node.port} to stop publishing ${retired.kid}`, async () => {
      const { keys } = (await (await fetch(`${node.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
      return keys.some((k) => k.kid === retired.kid) ? undefined : true;
    });
  }
  t.pass('within KEY_RELOAD_INTERVAL_SECONDS (2 s here)');
});

test.serial('a removed client is refused on every node at once', async (t) => {
  const { cli, nodes } = await getWorld();
  for (const node of nodes) t.is((await clientCredentials(node.url)).status, 200, 'cached on every node');
  await cli(['clients', 'remove', '--client-id', 'machine']);
  const removedAt = Date.now();
  for (const node of nodes) {
    await until(`node ${node.port} to refuse the client`, async () =>
      (await clientCredentials(node.url)).status === 401 ? true : undefined,
    );
  }
  const ms = Date.now() - removedAt;
  t.true(ms < 2000, `refused everywhere ${ms} ms after the removal (the cache alone would keep it for minutes)`);
});

test.serial('kill -9 of a node in the middle of a sign-in: the person finishes on the others', async (t) => {
  const { nodes, proxy, rp } = await getWorld();
  const browser = new HttpBrowser();
  const request = await rp.authorizationRequest();
  const identifierPage = await browser.open(request.url, REDIRECT);
  const passwordPage = await browser.submit(identifierPage, '/identifier', { email: 'ana@example.com' });
  const victim = nodes[0]!;
  victim.child.kill('SIGKILL');
  await victim.exited;
  proxy.markDown(victim.port); // as a balancer's health check would
  const callback = await browser.submit(passwordPage, '/password', { password: PASSWORD }, REDIRECT);
  t.true(callback.url.startsWith(REDIRECT), callback.body);
  t.truthy((await rp.exchange(callback.url, request)).id_token);
});

test.serial('SIGTERM stops the other nodes cleanly, the two workers of the third too', async (t) => {
  const { nodes } = await getWorld();
  const alive = nodes.slice(1);
  for (const node of alive) node.child.kill('SIGTERM');
  const codes = await Promise.all(alive.map((n) => n.exited));
  t.deepEqual(
    codes.map(([code]) => code),
    [0, 0],
    alive.map((n) => n.output()).join('\n'),
  );
});
