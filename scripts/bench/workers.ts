/**
 * `npm run bench -- --workers 2`: what WEB_CONCURRENCY buys on this machine. Umbral on PostgreSQL,
 * not pinned, once with one worker and once with N (node:cluster, one port), each under the same
 * client-credentials load (autocannon, from this process, on whatever core is free): req/s, and
 * the CPU of the primary and all its workers. The load generator shares the machine's cores with
 * the workers, so on 2 cores this understates what N workers do behind a load balancer elsewhere.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup.ts';
import { closedLoop, type LoadResult } from './load.ts';
import { createBenchDatabase } from './postgres.ts';
import { cpuSeconds } from './proc.ts';
import { childEnv, freePort, startNode, umbralCli, waitHealthy } from './processes.ts';
import type { BenchOptions } from './run.ts';
import { round, sleep } from './stats.ts';

export interface WorkersResult {
  workers: number;
  rps: number;
  /** CPU-seconds per second of the primary and its workers together. */
  cpuCores: number;
  statuses: LoadResult['statuses'];
}

/** The pids of `pid`'s children (the cluster's workers), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const treeCpu = (pid: number) => [pid, ...childrenOf(pid)].reduce((sum, p) => sum + (cpuSeconds(p) ?? 0), 0);

async function oneRun(workers: number, options: BenchOptions, seconds: number): Promise<WorkersResult> {
  const database = await createBenchDatabase();
  const drop = onCleanup(`drop database ${database.name}`, () => database.drop());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-bench-workers-'));
  const port = await freePort();
  const env = childEnv({
    PORT: String(port),
    ISSUER: `http://localhost:${port}`,
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    LOG_LEVEL: 'warn',
    WEB_CONCURRENCY: String(workers),
  });
  // Every core (this process is pinned to one, and children inherit that).
  const server = startNode(`umbral ×${workers}`, ['--enable-source-maps', 'build/src/main.js'], env, {
    core: `0-${os.cpus().length - 1}`,
  });
  try {
    await waitHealthy(server, `http://127.0.0.1:${port}/healthz`, 120_000);
    const client = await umbralCli(
      ['clients', 'add', '--client-id', 'bench-machine', '--grant-types', 'client_credentials'],
      env,
      {},
    );
    const auth = `Basic ${Buffer.from(`bench-machine:${String(client['client_secret'])}`).toString('base64')}`;
    const spec = {
      origin: `http://127.0.0.1:${port}`,
      path: '/token',
      method: 'POST' as const,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      expectStatus: 200,
    };
    await closedLoop(spec, options.connections, 2); // warm every worker
    await sleep(500);
    const before = treeCpu(server.pid);
    const result = await closedLoop(spec, options.connections, seconds);
    const cpu = treeCpu(server.pid) - before;
    options.log(`    WEB_CONCURRENCY=${workers}: ${result.rps}/s, ${round(cpu / seconds, 2)} cores`);
    return { workers, rps: result.rps, cpuCores: round(cpu / seconds, 2), statuses: result.statuses };
  } finally {
    await server.stop();
    await drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One worker, then `workers`, each under the same load. */
export async function benchWorkers(options: BenchOptions, workers: number, seconds: number) {
  const one = await oneRun(1, options, seconds);
  const many = await oneRun(workers, options, seconds);
  return { one, many, ratio: one.rps ? round(many.rps / one.rps, 2) : 0 };
}
