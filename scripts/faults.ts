/**
 * `npm run faults` (or `npm run bench -- --faults`): what Umbral does when things fail, on three
 * compiled nodes (`build/src/main.js`) behind a round-robin balancer, one PostgreSQL database of
 * the run's own and Redis. PostgreSQL and Redis are reached through TCP proxies this script cuts,
 * so the machine's own servers are never stopped. Prints a table (fault, expectation, what
 * happened, verdict) and exits 1 if any verdict fails.
 *
 * Environment: BENCH_DATABASE_URL (admin connection, default postgres://postgres@127.0.0.1:5432/postgres),
 * REDIS_URL (default redis://127.0.0.1:6379), FAULTS_LOAD_RPS (default 200: twice the goal load of
 * SCALING.md's example), FAULTS_LOAD_SECONDS (default 60).
 */
import { randomBytes } from 'node:crypto';
import { runUmbral } from '../test/cli/umbral-cli.ts';
import { HttpBrowser } from '../test/support/http-browser.ts';
import { RelyingParty } from '../test/support/relying-party.ts';
import { startTcpProxy } from '../test/support/tcp-proxy.ts';
import {
  freePort,
  startNode,
  startRoundRobinProxy,
  type UmbralNode,
  untilReady,
} from '../test/support/umbral-nodes.ts';
import { createBenchDatabase } from './bench/postgres.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'correct horse battery';
const SECRET = 'faults-portal-secret-0123456789abcdef0123';
const LOAD_RPS = Number(process.env['FAULTS_LOAD_RPS'] ?? 200);
const LOAD_SECONDS = Number(process.env['FAULTS_LOAD_SECONDS'] ?? 60);

interface Row {
  fault: string;
  expected: string;
  observed: string;
  pass: boolean;
}

interface Outcome {
  status: number;
  ms: number;
  at: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `concurrency` loops sending `request` until `seconds` pass, or at `rps` when given. */
async function load(
  request: () => Promise<Response>,
  seconds: number,
  concurrency: number,
  rps?: number,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        if (rps) {
          const due = started + (sent++ / rps) * 1000;
          if (due > performance.now()) await sleep(due - performance.now());
          if (performance.now() >= deadline) break;
        }
        const at = performance.now();
        const status = await request().then(
          async (r) => {
            await r.arrayBuffer();
            return r.status;
          },
          () => 0,
        );
        outcomes.push({ status, ms: performance.now() - at, at: at - started });
      }
    }),
  );
  return outcomes;
}

const count = (outcomes: Outcome[], test: (o: Outcome) => boolean) => outcomes.filter(test).length;
const statusList = (outcomes: Outcome[]) => {
  const by: Record<string, number> = {};
  for (const o of outcomes) by[o.status] = (by[o.status] ?? 0) + 1;
  return Object.entries(by)
    .map(([s, n]) => `${n}×${s === '0' ? 'conn-error' : s}`)
    .join(', ');
};

async function main(): Promise<number> {
  const database = await createBenchDatabase();
  const pgTarget = new URL(database.url);
  const pgProxy = await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const redisTarget = new URL(redisUrl);
  const redisProxy = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
  const ports = [await freePort(), await freePort(), await freePort()];
  const balancer = await startRoundRobinProxy(ports);
  const issuer = `http://localhost:${balancer.port}`;
  const env = {
    DATABASE_URL: pgProxy.through(database.url),
    REDIS_URL: redisProxy.through(redisUrl),
    REDIS_KEY_PREFIX: `umbral-faults-${randomBytes(4).toString('hex')}:`,
    ISSUER: issuer,
    SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  const nodes: UmbralNode[] = ports.map((port) => startNode(env, port));
  const rows: Row[] = [];
  try {
    await untilReady(nodes);
    const cli = async (args: string[]) => {
      const result = await runUmbral(args, { env: { ...env, DATABASE_URL: database.url } });
      if (result.code !== 0) throw new Error(`umbral ${args.join(' ')}: ${result.stderr}`);
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
      '--grant-types',
      'authorization_code,refresh_token,client_credentials',
      '--first-party',
    ]);
    await cli(['users', 'add', '--email', 'ana@example.com', '--password', PASSWORD, '--verified']);
    const auth = `Basic ${Buffer.from(`portal:${SECRET}`).toString('base64')}`;
    const tokenRequest = (url = issuer) =>
      fetch(`${url}/token`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    const rp = await RelyingParty.discover(issuer, 'portal', SECRET, REDIRECT);
    const log = (line: string) => process.stderr.write(`faults: ${line}\n`);

    // 1. PostgreSQL away for 3 s under load (its connections reset, new ones refused).
    log('PostgreSQL cut under load…');
    const committed = await (await tokenRequest()).json();
    const loading = load(() => tokenRequest(), 8, 16);
    await sleep(2000);
    pgProxy.cut();
    await sleep(3000);
    pgProxy.restore();
    const restoredAt = 5000;
    const outage = await loading;
    const during = outage.filter((o) => o.at >= 2000 && o.at < restoredAt);
    const after = outage.filter((o) => o.at >= restoredAt + 2000);
    const introspected = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${(committed as { access_token: string }).access_token}`,
    }).then((r) => r.json() as Promise<{ active?: boolean }>);
    const firstOk = outage.find((o) => o.at >= restoredAt && o.status === 200);
    const alive = nodes.every((n) => n.child.exitCode === null);
    const worst = Math.max(0, ...during.map((o) => o.ms));
    rows.push({
      fault: 'PostgreSQL unreachable 3 s under load (16 in flight)',
      expected: 'only 503 while away, each within 1 s; no crash; 200 again within 5 s; committed tokens kept',
      observed:
        `during: ${statusList(during)}, slowest ${Math.round(worst)} ms; ` +
        `first 200 ${firstOk ? Math.round(firstOk.at - restoredAt) : '–'} ms after; then ${statusList(after)}; ` +
        `nodes alive: ${alive}; token issued before: active=${introspected.active}`,
      pass:
        during.every((o) => o.status === 503 || o.status === 200) &&
        worst < 1000 &&
        alive &&
        firstOk !== undefined &&
        firstOk.at - restoredAt < 5000 &&
        after.every((o) => o.status === 200) &&
        introspected.active === true,
    });

    // 2. Redis away: throttling falls back to the database; a sign-in neither fails nor waits.
    log('Redis cut…');
    redisProxy.cut();
    const started = performance.now();
    const refused = await rp.signIn(new HttpBrowser(), 'ana@example.com', 'wrong horse battery');
    const signedIn = await rp.signIn(new HttpBrowser(), 'ana@example.com', PASSWORD);
    const redisMs = performance.now() - started;
    redisProxy.restore();
    const logged = nodes.some((n) => n.output().includes('Redis unreachable: login throttling counts in the database'));
    rows.push({
      fault: 'Redis unreachable',
      expected: 'wrong password refused, right one signs in, both fast; the fallback is logged',
      observed: `wrong: ${refused.callback.status}, right: ${signedIn.callback.url.startsWith(REDIRECT) ? 'signed in' : signedIn.callback.status}; ${Math.round(redisMs)} ms for both; logged: ${logged}`,
      pass:
        !refused.callback.url.startsWith(REDIRECT) &&
        signedIn.callback.url.startsWith(REDIRECT) &&
        redisMs < 3000 &&
        logged,
    });

    // 3. kill -9 of a node in the middle of a sign-in: the person finishes on the others.
    log('kill -9 mid sign-in…');
    const browser = new HttpBrowser();
    const request = await rp.authorizationRequest();
    const identifierPage = await browser.open(request.url, REDIRECT);
    const passwordPage = await browser.submit(identifierPage, '/identifier', { email: 'ana@example.com' });
    const victim = nodes[0]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    balancer.markDown(victim.port); // the balancer's health check takes it out
    const finished = await browser.submit(passwordPage, '/password', { password: PASSWORD }, REDIRECT);
    const tokens = finished.url.startsWith(REDIRECT) ? await rp.exchange(finished.url, request) : undefined;
    rows.push({
      fault: 'kill -9 of a node between the identifier and password steps',
      expected: 'the sign-in finishes on another node',
      observed: tokens?.id_token ? 'signed in, tokens issued' : `ended at ${finished.status} ${finished.url}`,
      pass: tokens?.id_token !== undefined,
    });

    // 4. SIGTERM under load: deregistered from the balancer as it stops; no request fails.
    log('SIGTERM drain…');
    const draining = nodes[1]!;
    const drainLoad = load(() => tokenRequest(), 4, 16);
    await sleep(1500);
    balancer.markDown(draining.port);
    const stopAt = performance.now();
    draining.child.kill('SIGTERM');
    const [code] = await draining.exited;
    const stopMs = performance.now() - stopAt;
    const drained = await drainLoad;
    rows.push({
      fault: 'SIGTERM of a node under load (16 in flight)',
      expected: 'no failed request; exits 0 well before the 10 s forced exit',
      observed: `${statusList(drained)}; exit ${code} after ${Math.round(stopMs)} ms`,
      pass: drained.every((o) => o.status === 200) && code === 0 && stopMs < 5000,
    });

    // Back to three nodes for the load.
    nodes[0] = startNode(env, ports[0]!);
    nodes[1] = startNode(env, ports[1]!);
    await untilReady(nodes);
    balancer.markUp(ports[0]!);
    balancer.markUp(ports[1]!);

    // 5. Twice the goal load for a minute: no 5xx.
    log(`${LOAD_RPS}/s for ${LOAD_SECONDS} s…`);
    const heavy = await load(() => tokenRequest(), LOAD_SECONDS, 64, LOAD_RPS);
    const fivexx = count(heavy, (o) => o.status >= 500 || o.status === 0);
    const sorted = heavy.map((o) => o.ms).sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    rows.push({
      fault: `${LOAD_RPS} client_credentials/s for ${LOAD_SECONDS} s on three nodes`,
      expected: 'zero 5xx, zero connection errors',
      observed: `${heavy.length} requests (${Math.round(heavy.length / LOAD_SECONDS)}/s): ${statusList(heavy)}; p99 ${Math.round(p99)} ms`,
      // The rate itself is the load generator's (fetch, on this machine); the verdict is about the answers.
      pass: fivexx === 0 && heavy.length >= LOAD_RPS * LOAD_SECONDS * 0.9,
    });
  } finally {
    for (const node of nodes) node.child.kill('SIGKILL');
    await balancer.close();
    await pgProxy.close();
    await redisProxy.close();
    await database.drop().catch(() => {});
  }
  const table = [
    '| Fault | Expected | Observed | Verdict |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.fault} | ${r.expected} | ${r.observed} | ${r.pass ? 'pass' : '**FAIL**'} |`),
  ].join('\n');
  process.stdout.write(`\n${table}\n`);
  return rows.every((r) => r.pass) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`faults: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
