/**
 * `npm run bench -- --workers 2`: what WEB_CONCURRENCY buys on this machine. Umbral on PostgreSQL,
 * not pinned, once with one worker and once with N (node:cluster, one port), each under the same
 * client-credentials load: req/s, and the CPU of the primary and all its workers, of the load
 * generator and of the database's backends. The load is wrk's when it is installed (about a fifth
 * of autocannon's CPU per request, src: wrk-load.ts), else autocannon's from this process. The
 * load generator and PostgreSQL share the machine's cores with the workers, so on 2 cores this
 * understates what N workers do behind a load balancer elsewhere.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SERVER_NODE_FLAGS } from '../../src/config/server-node-flags.ts';
import { onCleanup } from './cleanup.ts';
import { closedLoop, type LoadResult } from './load.ts';
import { createBenchDatabase } from './postgres.ts';
import { cpuSeconds, postgresBackends, statFields } from './proc.ts';
import { childEnv, freePort, startNode, umbralCli, waitHealthy } from './processes.ts';
import type { BenchOptions } from './run.ts';
import { round, sleep } from './stats.ts';
import { hasWrk, wrkClosedLoop } from './wrk-load.ts';

export interface WorkersResult {
  workers: number;
  rps: number;
  /** CPU-seconds per second of the primary and its workers together. */
  cpuCores: number;
  /** 'wrk' or 'autocannon'. */
  loadGenerator: string;
  /** CPU-seconds per second of the load generator (wrk only: autocannon runs in this process). */
  loadGeneratorCores: number | undefined;
  /** CPU-seconds per second of the PostgreSQL backends serving this run's database. */
  databaseCores: number;
  /** Keep-alive connections of the closed loop. */
  connections: number;
  statuses: LoadResult['statuses'];
}

/**
 * Connections of the worker runs, per worker of the larger run, the same for both. A closed loop
 * of 32 (the other phases' count) could not keep two workers busy: they got 1.39 of the 2 cores
 * with 0.2 idle and did ×1.02 of one; with 128 the machine was busy and they did ×1.32
 * (2026-12-04, 20:37Z and 20:39Z).
 */
const CONNECTIONS_PER_WORKER = 64;

/** The pids of `pid`'s children (the cluster's workers), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(statFields(stat)[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const treeCpu = (pid: number) => [pid, ...childrenOf(pid)].reduce((sum, p) => sum + (cpuSeconds(p) ?? 0), 0);

async function oneRun(
  workers: number,
  connections: number,
  options: BenchOptions,
  seconds: number,
): Promise<WorkersResult> {
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
  const server = startNode(`umbral ×${workers}`, [...SERVER_NODE_FLAGS, 'build/src/main.js'], env, {
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
    const wrk = hasWrk();
    const load = async (s: number) =>
      wrk ? await wrkClosedLoop(spec, connections, s) : { load: await closedLoop(spec, connections, s) };
    await load(2); // warm every worker
    await sleep(500);
    const databaseCpu = () => postgresBackends(database.name).reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
    const before = { server: treeCpu(server.pid), database: databaseCpu() };
    const run = await load(seconds);
    const result = run.load;
    const cpu = treeCpu(server.pid) - before.server;
    const cores = (s: number) => round(s / result.durationSeconds, 2);
    const loadGeneratorCores = 'cpuSeconds' in run ? cores(run.cpuSeconds) : undefined;
    const databaseCores = cores(databaseCpu() - before.database);
    options.log(
      `    WEB_CONCURRENCY=${workers}, ${connections} connections: ${result.rps}/s, ${cores(cpu)} cores; ${wrk ? 'wrk' : 'autocannon'} ${loadGeneratorCores ?? '?'} cores, PostgreSQL ${databaseCores} cores`,
    );
    return {
      workers,
      rps: result.rps,
      cpuCores: cores(cpu),
      loadGenerator: wrk ? 'wrk' : 'autocannon',
      loadGeneratorCores,
      databaseCores,
      connections,
      statuses: result.statuses,
    };
  } finally {
    await server.stop();
    await drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One worker, then `workers`, each under the same load. */
export async function benchWorkers(options: BenchOptions, workers: number, seconds: number) {
  const connections = Math.max(options.connections, CONNECTIONS_PER_WORKER * workers);
  const one = await oneRun(1, connections, options, seconds);
  const many = await oneRun(workers, connections, options, seconds);
  return { one, many, ratio: one.rps ? round(many.rps / one.rps, 2) : 0 };
}
