/**
 * `npm run bench [-- --quick] [-- --store pglite|postgres] [-- --no-ceiling] [-- --no-census]`
 *
 * Measures Umbral per core: each server runs pinned to core 0 (`taskset -c 0`) and this process,
 * which generates the load, pins itself to core 1. For each store (PGlite, PostgreSQL) and for a
 * bare oidc-provider (the ceiling): client_credentials and refresh_token at maximum throughput
 * and at half of it, complete password logins, idle and peak RSS. Prints a markdown table and
 * writes bench-results/<timestamp>.json. See BENCHMARKS.md.
 *
 * PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) is the
 * admin connection used to create a database of the bench's own, dropped at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Argon2Ceiling, measureArgon2Ceiling } from './bench/argon2-ceiling.ts';
import { installSignalHandlers, runCleanup } from './bench/cleanup.ts';
import { benchPaired, type PairedResult, pairedLines } from './bench/paired.ts';
import { ADMIN_URL, postgresSettings, postgresVersion } from './bench/postgres.ts';
import { hasTaskset, machineBusyCores, pinSelf, transparentHugePages } from './bench/proc.ts';
import { ROOT } from './bench/processes.ts';
import { GOALS, markdownTable, type Verdict, verdictLines, verdicts } from './bench/report.ts';
import {
  type BenchOptions,
  benchBare,
  benchUmbral,
  type Calibration,
  calibrate,
  type Durations,
  PHASES,
  type Phase,
  type TargetResult,
} from './bench/run.ts';
import { benchWorkers } from './bench/workers.ts';

const USAGE = `Usage: npm run bench -- [--quick] [--store pglite|postgres]... [--no-ceiling] [--no-census]

  --quick        short phases (about 1 minute in all): rough figures, for trying the bench
  --store S      only this store (repeatable); default: pglite and postgres; none: only the
                 calibration and the bare oidc-provider
  --no-ceiling   skip the bare oidc-provider run
  --no-census    do not preload the SQL statement counter into the server
  --connections N  connections of the maximum-throughput loads (default 32)
  --logins N     password logins in flight (default 8)
  --phases LIST  comma-separated subset of cc,refresh,login,metrics (default: all); metrics:
                 a company's metrics over 100,000 sign-in events, after each Umbral server stops
  --cpu-prof     V8 CPU profile of the server during each maximum-load phase (started and
                 stopped in the server through the preloaded probe); profiles and .txt
                 summaries go to bench-results/profiles/<timestamp>/
  --cpu-prof-phases RE  which phases --cpu-prof profiles, by name (default "max|logins";
                 "half" for the half-load phases, where the p99 tail is set)
  --workers N    also Umbral on PostgreSQL unpinned with WEB_CONCURRENCY=1 and =N under the same
                 client_credentials load (64 connections per worker of N, at least --connections):
                 req/s and the ratio (the load generator, wrk when it is installed, else
                 autocannon, shares the cores)
  --paired N     also N paired rounds: the bare oidc-provider and Umbral on PostgreSQL running at
                 once on the server core, taking turns under the same maximum load (cc, refresh)
                 in short slices, so the ratio is not the machine's drift between two runs
                 (scripts/bench/paired.ts); the ratios' median and spread over the rounds
  --faults       run the fault table instead (scripts/faults.ts; also npm run faults)
  --wait-quiet S before each target, wait up to S seconds for the machine to be quiet
                 (under 0.25 busy cores); default 0 (do not wait, just record the noise)

Environment: BENCH_DATABASE_URL, the PostgreSQL admin connection (default
postgres://postgres@127.0.0.1:5432/postgres); the bench creates and drops its own database.`;

const FULL: Durations = { max: 10, half: 10, login: 15, warm: 2, idleEarly: 5, idle: 12 };
const QUICK: Durations = { max: 3, half: 3, login: 5, warm: 1, idleEarly: 2, idle: 12 };

/** Requests per CPU-second of the primary and its workers together. */
function perServerCore(run: { rps: number; cpuCores: number }): string {
  return Math.round(run.rps / run.cpuCores).toLocaleString('en-US');
}

/** The ratio goals as the paired rounds measured them. */
function pairedVerdicts(paired: PairedResult | undefined): Verdict[] {
  const out: Verdict[] = [];
  for (const [name, flow] of [
    ['client_credentials', paired?.clientCredentials],
    ['refresh', paired?.refresh],
  ] as const) {
    if (!flow) continue;
    out.push({
      goal: `${name} per core ≥ ${GOALS.ofBareProvider} of the bare oidc-provider's, paired rounds`,
      target: 'Umbral on PostgreSQL',
      value: `median ${flow.ratio.median.toFixed(2)} over ${flow.rounds.length} rounds (${flow.ratio.min.toFixed(2)}–${flow.ratio.max.toFixed(2)})`,
      met: flow.ratio.median >= GOALS.ofBareProvider,
    });
  }
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      store: { type: 'string', multiple: true },
      'no-ceiling': { type: 'boolean', default: false },
      'no-census': { type: 'boolean', default: false },
      connections: { type: 'string', default: '32' },
      logins: { type: 'string', default: '8' },
      'wait-quiet': { type: 'string', default: '0' },
      phases: { type: 'string', default: PHASES.join(',') },
      'cpu-prof': { type: 'boolean', default: false },
      'cpu-prof-phases': { type: 'string', default: 'max|logins' },
      faults: { type: 'boolean', default: false },
      workers: { type: 'string' },
      paired: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.faults) {
    // The fault table instead of the figures (scripts/faults.ts, also `npm run faults`).
    await import('./faults.ts');
    return new Promise<number>(() => {}); // faults.ts exits with its own verdict
  }
  const stores = (values.store ?? ['pglite', 'postgres'])
    .filter((s) => s !== 'none')
    .map((s) => {
      if (s !== 'pglite' && s !== 'postgres') throw new Error(`--store must be pglite, postgres or none, not ${s}`);
      return s;
    });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const phases = new Set(
    values.phases.split(',').map((p) => {
      if (!(PHASES as readonly string[]).includes(p))
        throw new Error(`--phases: unknown phase ${p} (use ${PHASES.join(',')})`);
      return p as Phase;
    }),
  );
  const startedAt = new Date();
  const date = startedAt.toISOString().replace(/\.\d+Z$/, 'Z');
  const cpuProfileDir = values['cpu-prof']
    ? path.join(ROOT, 'bench-results', 'profiles', date.replace(/:/g, '-'))
    : undefined;

  installSignalHandlers();
  const pinned = hasTaskset() && os.cpus().length >= 2 && pinSelf('1');
  if (!pinned) log('bench: taskset or a second core is missing: nothing is pinned, figures are not per core');
  const options: BenchOptions = {
    durations: values.quick ? QUICK : FULL,
    serverCore: pinned ? '0' : undefined,
    connections: Number(values.connections),
    loginConcurrency: Number(values.logins),
    census: !values['no-census'],
    phases,
    cpuProfileDir,
    cpuProfilePhases: new RegExp(values['cpu-prof-phases']),
    log,
  };

  const began = performance.now();
  const results: TargetResult[] = [];
  let failure: unknown;
  const waitQuiet = Number(values['wait-quiet']) * 1000;
  /** Reads (and, with --wait-quiet, waits out) what else keeps the machine busy. */
  const noise = async (): Promise<number> => {
    const deadline = performance.now() + waitQuiet;
    let busy = await machineBusyCores(2000);
    while (busy > 0.25 && performance.now() < deadline) {
      log(`bench: machine busy (${busy} cores in use by others), waiting…`);
      busy = await machineBusyCores(2000);
    }
    if (busy > 0.25) log(`bench: note: ${busy} cores were busy with other work just before this target`);
    return busy;
  };
  const run = async (target: () => Promise<TargetResult>) => {
    const busy = await noise();
    const result = await target();
    result.machineBusyBeforeCores = busy;
    results.push(result);
  };
  let calibration: Calibration | undefined;
  let argon2: Argon2Ceiling | undefined;
  let workers: Awaited<ReturnType<typeof benchWorkers>> | undefined;
  let paired: PairedResult | undefined;
  try {
    log('bench: calibration…');
    await noise();
    calibration = await calibrate(options, values.quick ? 2 : 5);
    if (phases.has('login') && stores.length) {
      argon2 = await measureArgon2Ceiling(options, values.quick ? 2 : 5);
      log(
        `  login ceiling: ${argon2.perCore.toFixed(1)} argon2id verifications per CPU-second (servers' allocator settings ${argon2.serverAllocator.perCore.toFixed(1)}, glibc's defaults ${argon2.glibcDefaults.perCore.toFixed(1)})`,
      );
    }
    if (!values['no-ceiling']) {
      log('bench: bare oidc-provider (ceiling)…');
      await run(() => benchBare(options));
    }
    for (const store of stores) {
      log(`bench: Umbral on ${store}…`);
      await run(() => benchUmbral(store, options));
    }
    if (values.paired) {
      const rounds = Number(values.paired);
      if (!Number.isInteger(rounds) || rounds < 1)
        throw new Error(`--paired: a number of rounds, not ${values.paired}`);
      log(`bench: paired rounds, bare oidc-provider and Umbral on PostgreSQL taking turns (${rounds} rounds)…`);
      await noise();
      paired = await benchPaired(options, rounds, values.quick ? 2 : 4);
    }
    if (values.workers) {
      log(`bench: WEB_CONCURRENCY=1 and ${values.workers} on PostgreSQL, unpinned…`);
      await noise();
      workers = await benchWorkers(options, Number(values.workers), options.durations.max);
    }
  } catch (error) {
    failure = error;
  } finally {
    await runCleanup();
  }
  const seconds = Math.round((performance.now() - began) / 1000);
  if (failure) {
    log(
      `bench: failed after ${seconds} s: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`,
    );
    if (!results.length) return 1;
  }

  if (cpuProfileDir) log(`bench: CPU profiles (and .txt summaries) in ${path.relative(process.cwd(), cpuProfileDir)}`);
  const table = results.length
    ? markdownTable(results, { date, quick: values.quick, pinned, calibration, argon2, thp: transparentHugePages() })
    : `Calibration and paired rounds only (${date}).`;
  const verdict = [...verdicts(results, { argon2, workersRatio: workers?.ratio }), ...pairedVerdicts(paired)];
  const workersLine = workers
    ? `\n\nWEB_CONCURRENCY (PostgreSQL, unpinned, ${workers.many.loadGenerator} with ${workers.many.connections} connections and PostgreSQL on the same cores): 1 worker ${workers.one.rps.toLocaleString('en-US')} client_credentials/s (${workers.one.cpuCores} cores), ${workers.many.workers} workers ${workers.many.rps.toLocaleString('en-US')}/s (${workers.many.cpuCores} cores): ×${workers.ratio} (goal ×1.8 for 2). Per server CPU-second: ${perServerCore(workers.one)} and ${perServerCore(workers.many)}/s (×${(workers.many.rps / workers.many.cpuCores / (workers.one.rps / workers.one.cpuCores)).toFixed(2)}). Beside the ${workers.many.workers} workers: ${workers.many.loadGenerator} ${workers.many.loadGeneratorCores ?? '?'} cores, PostgreSQL ${workers.many.databaseCores} cores.`
    : '';
  const pairedSection = paired ? `\n\n${pairedLines(paired)}` : '';
  process.stdout.write(
    `\n${table}${workersLine}${pairedSection}\n\n${verdictLines(verdict)}\n\nbench: ${seconds} s in all\n`,
  );

  const outDir = path.join(ROOT, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${date.replace(/:/g, '-')}.json`);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: os.loadavg(),
    node: process.version,
    kernel: os.release(),
    transparentHugePages: transparentHugePages(),
  };
  let postgres: Record<string, unknown> | undefined;
  if (stores.includes('postgres')) {
    postgres = await Promise.all([postgresVersion(), postgresSettings()]).then(
      ([version, settings]) => ({ adminUrl: ADMIN_URL.replace(/:[^:@/]*@/, ':***@'), version, settings }),
      () => undefined,
    );
  }
  fs.writeFileSync(
    file,
    `${JSON.stringify({ date, quick: values.quick, pinned, calibration, argon2, workers, paired, durations: options.durations, connections: options.connections, loginConcurrency: options.loginConcurrency, census: options.census, seconds, machine, postgres, results, verdicts: verdict, ...(failure ? { failure: String(failure) } : {}) }, null, 2)}\n`,
  );
  log(`bench: results written to ${path.relative(process.cwd(), file)}`);
  return failure ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await runCleanup();
    process.exit(1);
  },
);
