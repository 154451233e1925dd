/**
 * Where a password login's CPU goes, request by request: Umbral on PostgreSQL pinned to core 0 (with taskset)
 * (`npm run build` first: it runs build/src/main.js as the bench does), one login at a time, and
 * for each request of a login the server's CPU until the next request leaves, on all its threads
 * and on the JavaScript thread alone (the rest is libuv's pool, where argon2id runs, and V8's GC
 * helpers), with the minor page faults per login. One at a time, nothing is batched with other
 * requests, so the figures are above those under load; they tell the requests apart. Three cheap
 * requests measured alike give the floor of a request here.
 *
 *   npx tsx scripts/bench/login-steps.ts [logins, default 200]
 */
import { passwordLogin } from './login.ts';
import { hasTaskset, minorFaults, threadCpuNs } from './proc.ts';
import { startUmbralServer } from './servers.ts';
import { round } from './stats.ts';

const logins = Number(process.argv[2] ?? 200);
if (!Number.isInteger(logins) || logins < 1)
  throw new Error(`logins must be a positive integer, got ${process.argv[2]}`);

const ready = await startUmbralServer('postgres', {
  serverCore: hasTaskset() ? '0' : undefined, // unpinned where taskset is missing
  connections: 1,
  census: false,
  cpuProfileDir: undefined,
  log: (line) => process.stdout.write(`${line}\n`),
});
const pid = ready.server.pid;

/** CPU per request kind, charged from the moment a request leaves until the next one does. */
const byRequest = new Map<string, { count: number; all: number; main: number }>();
let open: { kind: string; at: { all: number; main: number } } | undefined;
const settle = () => {
  if (!open) return;
  const now = threadCpuNs(pid);
  const entry = byRequest.get(open.kind) ?? { count: 0, all: 0, main: 0 };
  entry.count++;
  entry.all += now.all - open.at.all;
  entry.main += now.main - open.at.main;
  byRequest.set(open.kind, entry);
  open = undefined;
};
/** The request's method and path, with the interaction's uid left out, so a login's requests add up by kind. */
const kindOf = (input: string | URL | Request, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : input);
  const path = url.pathname.replace(/^\/interaction\/[^/]+/, '/interaction/:uid').replace(/^\/auth\/.+/, '/auth/:uid');
  return `${init?.method ?? 'GET'} ${path}`;
};
/** fetch, charging what the server does for each request to `kind`, or to the request's own kind. */
const counting =
  (kind?: string): typeof fetch =>
  (input, init) => {
    settle();
    open = { kind: kind ?? kindOf(input, init), at: threadCpuNs(pid) };
    return fetch(input, init);
  };

try {
  for (let i = 0; i < 20; i++) await passwordLogin(ready.login); // warm-up, not counted
  const faults = minorFaults(pid);
  const start = threadCpuNs(pid);
  for (let i = 0; i < logins; i++) await passwordLogin(ready.login, counting());
  settle();
  const perLogin = { all: (threadCpuNs(pid).all - start.all) / logins, faults: (minorFaults(pid) - faults) / logins };
  const cheap: Array<[string, string, RequestInit]> = [
    ['GET /healthz (not part of a login)', `${ready.origin}/healthz`, {}],
    ['GET /.well-known/openid-configuration (not part)', `${ready.origin}/.well-known/openid-configuration`, {}],
    [
      'POST /token client_credentials (not part)',
      `${ready.origin}/token`,
      { method: 'POST', headers: ready.cc.headers, body: ready.cc.body ?? '' },
    ],
  ];
  for (let i = 0; i < logins; i++) {
    for (const [kind, url, init] of cheap) {
      const response = await counting(kind)(url, init);
      await response.arrayBuffer();
    }
  }
  settle();
  const ms = (ns: number) => round(ns / 1e6, 2);
  const lines = [
    `| request (${logins} logins, one at a time) | per login | CPU ms, all threads | JavaScript thread | other threads |`,
    '|---|---|---|---|---|',
    ...[...byRequest].map(
      ([kind, e]) =>
        `| ${kind} | ${round(e.count / logins, 1)} | ${ms(e.all / e.count)} | ${ms(e.main / e.count)} | ${ms((e.all - e.main) / e.count)} |`,
    ),
    '',
    `A login: ${ms(perLogin.all)} ms of CPU, ${Math.round(perLogin.faults)} minor page faults.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await ready.stop();
  await ready.cleanup();
}
