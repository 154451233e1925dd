/**
 * One bench target (the bare oidc-provider, or Umbral on one store): start it pinned to core 0,
 * warm it up, read its idle memory, then run the loads from this process (pinned to core 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Census, CensusSnapshot, QueryProfile } from './census.ts';
import { profile } from './census.ts';
import { closedLoop, type LoadResult, paced, type RequestSpec } from './load.ts';
import { type LoginLoadResult, loginLoad } from './login.ts';
import { benchMetrics, type MetricsResult } from './metrics.ts';
import { issuedBetween, tokensIssued } from './metrics-scrape.ts';
import { onePageLogin } from './one-page-login.ts';
import { type CpuUse, cpuSnapshot, cpuUse, rssBytes, Sampler } from './proc.ts';
import { childEnv, firstJsonLine, freePort, type RunningProcess, startNode } from './processes.ts';
import { summarise } from './profile-summary.ts';
import { mb, startBareServer, startUmbralServer, tokenSpec } from './servers.ts';
import { round, sleep } from './stats.ts';

export interface Durations {
  /** Closed-loop (maximum throughput) phases, s. */
  max: number;
  /** Paced phases at half the maximum, s. */
  half: number;
  /** Password-login phase, s. */
  login: number;
  /** Warm-up before each kind of load, s. */
  warm: number;
  /** Idle time before the first RSS reading, s: the node may still be handing memory back. */
  idleEarly: number;
  /**
   * Idle time before reading idle RSS, s: past the node's last scheduled collection
   * (src/http/idle-heap-release.ts, 8 quiet seconds), so it is what a node at rest keeps.
   */
  idle: number;
}

export interface BenchOptions {
  durations: Durations;
  /** Core the servers are pinned to (undefined: not pinned). */
  serverCore: string | undefined;
  connections: number;
  loginConcurrency: number;
  census: boolean;
  /** Loads to run (all by default). */
  phases: Set<Phase>;
  /** Directory for the servers' V8 CPU profiles (node --cpu-prof), when profiling. */
  cpuProfileDir: string | undefined;
  /** The phases profiled, by name ("client_credentials max", "refresh_token at half", "password logins"). */
  cpuProfilePhases: RegExp;
  log: (line: string) => void;
}

export const PHASES = ['cc', 'refresh', 'login', 'metrics'] as const;
export type Phase = (typeof PHASES)[number];

export type Measured<T> = T & {
  cpu: CpuUse;
  queries?: QueryProfile | undefined;
  /** The server's event-loop delay and GC pauses during the phase. */
  loop?: Pick<CensusSnapshot, 'loopDelayMs' | 'gc'> | undefined;
  /** Umbral: tokens its /metrics counted as issued during the phase, by grant (to compare with `ok`). */
  metricsIssued?: Record<string, number> | undefined;
};

export interface TokenPhases {
  max: Measured<LoadResult>;
  half: Measured<LoadResult>;
}

export interface TargetResult {
  target: 'bare' | 'pglite' | 'postgres';
  label: string;
  startupSeconds: number;
  rssAfterStartMb: number;
  /** Umbral: after the client_credentials and refresh warm-ups, then after the login warm-up (argon2 at work). */
  rssAfterTokenWarmupMb?: number;
  rssAfterLoginWarmupMb?: number;
  /** RSS `idleEarly` seconds after the warm-up. */
  earlyIdleRssMb: number;
  idleRssMb: number;
  peakRssMb: number;
  clientCredentials?: TokenPhases | undefined;
  refresh?: TokenPhases | undefined;
  logins?: Measured<LoginLoadResult> | undefined;
  /** A company's metrics over 100,000 sign-in events (scripts/bench/metrics.ts), after the server stopped. */
  metrics?: MetricsResult | undefined;
  /** Server memory as the process itself sees it (process.memoryUsage()) when idle, and after the loads (census only). */
  idleMemoryMb?: Record<string, number>;
  memoryAfterLoadMb?: Record<string, number>;
  /** Cores busy on the machine (other people's work) just before this target started. */
  machineBusyBeforeCores?: number;
  notes: string[];
}

/** One server under measurement: each load's CPU, SQL statements and tokens counted. */
export class Target {
  readonly sampler: Sampler;
  constructor(
    readonly name: string,
    readonly server: RunningProcess,
    readonly options: BenchOptions,
    readonly census: Census | undefined,
    database: string | undefined,
    /** The census counts SQL statements (not for the bare provider). */
    readonly sql = false,
    /** Umbral's /metrics token counts, read around each phase. */
    readonly issued?: () => Promise<Record<string, number>>,
  ) {
    this.sampler = new Sampler(server.pid, database);
  }

  /** Runs one load; with --cpu-prof, the phases --cpu-prof-phases names are profiled. */
  async measure<T extends { ok: number }>(name: string, run: () => Promise<T>): Promise<Measured<T>> {
    const profileDir = this.options.cpuProfileDir;
    const profiled = profileDir !== undefined && this.census !== undefined && this.options.cpuProfilePhases.test(name);
    const censusBefore = await this.census?.read();
    const issuedBefore = await this.issued?.();
    if (profiled) await this.census!.profileStart();
    const before = cpuSnapshot(this.server.pid, this.sampler);
    const result = await run();
    const after = cpuSnapshot(this.server.pid, this.sampler);
    if (profiled) {
      fs.mkdirSync(profileDir, { recursive: true });
      const file = path.join(profileDir, `${this.name}-${name.replace(/\W+/g, '-')}.cpuprofile`);
      await this.census!.profileStop(file);
      if (fs.existsSync(file)) fs.writeFileSync(`${file}.txt`, `${summarise(file, 30)}\n`);
    }
    const censusAfter = await this.census?.read();
    const issuedAfter = await this.issued?.();
    const measured: Measured<T> = {
      ...result,
      metricsIssued: issuedBefore && issuedAfter ? issuedBetween(issuedBefore, issuedAfter) : undefined,
      cpu: cpuUse(before, after),
      queries: this.sql ? profile(censusBefore, censusAfter, result.ok) : undefined,
      loop: censusAfter && !profiled ? { loopDelayMs: censusAfter.loopDelayMs, gc: censusAfter.gc } : undefined,
    };
    this.options.log(`    ${name}: ${describe(measured)}`);
    return measured;
  }

  async tokenPhases(name: string, spec: RequestSpec): Promise<TokenPhases> {
    const { durations, connections } = this.options;
    const warm = await closedLoop(spec, connections, durations.warm);
    if (warm.ok === 0)
      throw new Error(
        `${name}: no successful answer during warm-up (${JSON.stringify(warm.statuses)}, ${warm.errors} errors)`,
      );
    await sleep(500);
    const max = await this.measure(`${name} max`, () => closedLoop(spec, connections, durations.max));
    await sleep(1000);
    const half = await this.measure(`${name} at half`, () =>
      paced(spec, Math.max(1, max.rps / 2), durations.half, connections * 2),
    );
    await sleep(500);
    return { max, half };
  }
}

function describe(r: Measured<{ ok: number }>): string {
  const load = r as unknown as Partial<LoadResult & LoginLoadResult>;
  const parts = [`${load.rps}/s`, `p50 ${load.latencyMs?.p50} ms`, `p99 ${load.latencyMs?.p99} ms`];
  if (load.failed) parts.push(`${load.failed} failed`);
  if (load.errors) parts.push(`${load.errors} errors`);
  parts.push(
    `cpu server ${r.cpu.server} / loadgen ${r.cpu.loadGenerator} / db ${r.cpu.database} / others ${r.cpu.others}`,
  );
  if (r.queries) parts.push(`${r.queries.perRequest} SQL/req`);
  if (r.loop)
    parts.push(
      `loop delay p99 ${r.loop.loopDelayMs.p99} ms max ${r.loop.loopDelayMs.max} ms, GC max ${r.loop.gc.maxMs} ms (${r.loop.gc.majorCount} major)`,
    );
  return parts.join(', ');
}

/** RSS `idleEarly` and `idle` seconds after the last request. */
async function idleRss(pid: number, durations: Durations): Promise<{ early: number; settled: number }> {
  await sleep(durations.idleEarly * 1000);
  const early = rssBytes(pid) ?? 0;
  await sleep(Math.max(0, durations.idle - durations.idleEarly) * 1000);
  return { early, settled: rssBytes(pid) ?? 0 };
}

const HELLO = `
const http = require('node:http');
const body = JSON.stringify({ access_token: 'x'.repeat(43), expires_in: 600, token_type: 'Bearer' });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.setHeader('content-type', 'application/json'); res.setHeader('content-length', Buffer.byteLength(body)); res.end(body); });
});
server.keepAliveTimeout = 65000;
server.listen(Number(process.env.PORT), () => console.log('{"ready":true}'));
process.on('SIGTERM', () => process.exit(0));
`;

export interface Calibration {
  /** What a plain node:http server answering a token-sized JSON does on the same core, same load: the machine's speed now. */
  helloRps: number;
  helloLatencyMs: { p50: number; p99: number };
  cpu: CpuUse;
}

/** A plain node:http server (no framework, no TypeScript loader) under the same closed-loop load. */
export async function calibrate(options: BenchOptions, seconds: number): Promise<Calibration> {
  const port = await freePort();
  const server = startNode('calibration server', ['-e', HELLO], childEnv({ PORT: String(port) }), {
    core: options.serverCore,
  });
  try {
    await firstJsonLine(server, 20_000);
    const spec = tokenSpec(`http://127.0.0.1:${port}`, 'Basic eDp5', { grant_type: 'client_credentials' });
    await closedLoop(spec, options.connections, 1);
    const before = cpuSnapshot(server.pid, undefined);
    const result = await closedLoop(spec, options.connections, seconds);
    const cpu = cpuUse(before, cpuSnapshot(server.pid, undefined));
    options.log(
      `  calibration (node:http hello): ${result.rps}/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, cpu server ${cpu.server} / loadgen ${cpu.loadGenerator} / others ${cpu.others}`,
    );
    return { helloRps: result.rps, helloLatencyMs: { p50: result.latencyMs.p50, p99: result.latencyMs.p99 }, cpu };
  } finally {
    await server.stop();
  }
}

/** oidc-provider alone: client_credentials, refresh, and its one-page password login (the library's login floor). */
export async function benchBare(options: BenchOptions): Promise<TargetResult> {
  const { log, durations } = options;
  const ready = await startBareServer(options);
  const { server } = ready;
  try {
    const target = new Target('bare', server, options, ready.census, undefined);
    await closedLoop(ready.cc, options.connections, durations.warm);
    const idle = await idleRss(server.pid, durations);
    log(
      `  bare oidc-provider: started in ${round(ready.startupSeconds, 1)} s, idle RSS ${mb(idle.early)} MB after ${durations.idleEarly} s, ${mb(idle.settled)} MB after ${durations.idle} s`,
    );
    target.sampler.start();
    const clientCredentials = options.phases.has('cc')
      ? await target.tokenPhases('client_credentials', ready.cc)
      : undefined;
    const refresh = options.phases.has('refresh')
      ? await target.tokenPhases('refresh_token', await ready.refresh())
      : undefined;
    let logins: Measured<LoginLoadResult> | undefined;
    if (options.phases.has('login')) {
      await loginLoad(ready.login, Math.min(4, options.loginConcurrency), durations.warm, onePageLogin);
      logins = await target.measure('password logins', () =>
        loginLoad(ready.login, options.loginConcurrency, durations.login, onePageLogin),
      );
    }
    target.sampler.stop();
    return {
      target: 'bare',
      label: 'bare oidc-provider (memory)',
      startupSeconds: round(ready.startupSeconds, 1),
      rssAfterStartMb: mb(ready.rssAfterStart),
      earlyIdleRssMb: mb(idle.early),
      idleRssMb: mb(idle.settled),
      peakRssMb: mb(target.sampler.peakRss),
      clientCredentials,
      refresh,
      logins,
      notes: [],
    };
  } finally {
    await ready.stop();
    await ready.cleanup();
  }
}

/** Umbral as `npm start` runs it, on PGlite (DATA_DIR) or PostgreSQL (a database of its own). */
export async function benchUmbral(kind: 'pglite' | 'postgres', options: BenchOptions): Promise<TargetResult> {
  const { log, durations } = options;
  const ready = await startUmbralServer(kind, options);
  const { server, census, login } = ready;
  let result: TargetResult | undefined;
  try {
    try {
      const target = new Target(kind, server, options, census, ready.databaseName, options.census, () =>
        tokensIssued(ready.origin),
      );
      const refreshLoad = await ready.refresh();
      await closedLoop(ready.cc, options.connections, durations.warm);
      await closedLoop(refreshLoad, options.connections, durations.warm);
      const rssAfterTokenWarmup = rssBytes(server.pid);
      await loginLoad(login, Math.min(4, options.loginConcurrency), durations.warm);
      const rssAfterLoginWarmup = rssBytes(server.pid);
      const idle = await idleRss(server.pid, durations);
      const idleMemory = (await census?.read())?.memory;
      log(
        `  umbral on ${kind}: idle RSS after warm-up ${mb(idle.early)} MB after ${durations.idleEarly} s, ${mb(idle.settled)} MB after ${durations.idle} s`,
      );

      target.sampler.start();
      const clientCredentials = options.phases.has('cc')
        ? await target.tokenPhases('client_credentials', ready.cc)
        : undefined;
      const refresh = options.phases.has('refresh')
        ? await target.tokenPhases('refresh_token', refreshLoad)
        : undefined;
      const logins = options.phases.has('login')
        ? await target.measure('password logins', () => loginLoad(login, options.loginConcurrency, durations.login))
        : undefined;
      target.sampler.stop();
      const notes = [...ready.notes];
      if (logins?.failed) notes.push(`${logins.failed} logins failed, first: ${logins.firstErrors[0]}`);
      const last: CensusSnapshot | undefined = await census?.read();
      result = {
        target: kind,
        label: `Umbral on ${kind === 'pglite' ? 'PGlite' : 'PostgreSQL'}`,
        startupSeconds: round(ready.startupSeconds, 1),
        rssAfterStartMb: mb(ready.rssAfterStart),
        rssAfterTokenWarmupMb: mb(rssAfterTokenWarmup),
        rssAfterLoginWarmupMb: mb(rssAfterLoginWarmup),
        earlyIdleRssMb: mb(idle.early),
        idleRssMb: mb(idle.settled),
        peakRssMb: mb(target.sampler.peakRss),
        clientCredentials,
        refresh,
        logins,
        ...(idleMemory
          ? { idleMemoryMb: Object.fromEntries(Object.entries(idleMemory).map(([k, v]) => [k, mb(v)])) }
          : {}),
        ...(last
          ? { memoryAfterLoadMb: Object.fromEntries(Object.entries(last.memory).map(([k, v]) => [k, mb(v)])) }
          : {}),
        notes,
      };
    } finally {
      await ready.stop();
    }
    if (options.phases.has('metrics')) {
      log(`  umbral on ${kind}: metrics over 100,000 sign-in events (seeding the store the server left)…`);
      const metrics = await benchMetrics({ databaseUrl: ready.databaseUrl, dataDir: ready.dataDir });
      const m = metrics.organizationMetricsMs;
      log(
        `    organization metrics: p50 ${m.p50} ms, p90 ${m.p90} ms, max ${m.max} ms; lastSignIns of 50: p50 ${metrics.lastSignInsOf50Ms.p50} ms (seeded in ${metrics.seedSeconds} s)`,
      );
      result.metrics = metrics;
    }
    return result;
  } finally {
    await ready.cleanup();
  }
}
