/**
 * `npm run bench -- --paired N`: Umbral's per-core rate against the bare oidc-provider's with the
 * machine's drift taken out. On these shared machines the same core does up to twice the work
 * from one half-minute to the next (the bare provider's client_credentials went from 1,271 to
 * 2,817 per CPU-second in runs minutes apart), so a ratio of two targets measured one after the
 * other is mostly the drift. Here both servers run at once, pinned to the same core, and take
 * turns under the same closed-loop load in short slices: bare, Umbral, Umbral, bare, … (the order
 * flips each round, so a steady drift cancels). Each round's ratio compares neighbouring slices;
 * the median over the rounds is the figure, and the spread says how far to trust it.
 */
import { closedLoop, type LoadResult, type RequestSpec } from './load.ts';
import { type BenchOptions, type Measured, Target } from './run.ts';
import { startBareServer, startUmbralServer } from './servers.ts';
import { round, sleep } from './stats.ts';

export interface PairedSlice {
  rps: number;
  /** Server CPU-seconds per second during the slice. */
  serverCores: number;
  /** Requests per server CPU-second. */
  perCore: number;
  /** Other work on the machine during the slice (cores of all), the load generator and PostgreSQL apart. */
  otherCores: number;
  failed: number;
  /** Umbral: SQL statements per request (batching varies with how fast PostgreSQL answers). */
  sqlPerRequest?: number | undefined;
}

export interface PairedFlow {
  rounds: { bare: PairedSlice; umbral: PairedSlice; ratio: number }[];
  /** Each round's ratio of neighbouring slices: their median and spread. */
  ratio: { median: number; min: number; max: number };
  /** The ratio of the two per-core medians, for comparison with the rounds' median. */
  ratioOfMedians: number;
  perCoreMedian: { bare: number; umbral: number };
}

export interface PairedResult {
  rounds: number;
  sliceSeconds: number;
  clientCredentials?: PairedFlow | undefined;
  refresh?: PairedFlow | undefined;
}

/**
 * Load before each measured slice. Umbral measured right after the bare provider's turn did less
 * per core than right after its own (same SQL per request): with 1 s of warm load 35–45% less, with
 * 3 s 20–30% (2026-12-03, BENCHMARKS.md). 3 s keeps most of that carry-over out of the slice.
 */
const SLICE_WARM_SECONDS = 3;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function slice(m: Measured<LoadResult>): PairedSlice {
  return {
    rps: m.rps,
    serverCores: m.cpu.server,
    perCore: m.cpu.server > 0 ? m.rps / m.cpu.server : 0,
    otherCores: m.cpu.others,
    failed: m.failed + m.errors,
    sqlPerRequest: m.queries?.perRequest,
  };
}

async function pairedFlow(
  name: string,
  bare: { target: Target; spec: RequestSpec },
  umbral: { target: Target; spec: RequestSpec },
  options: BenchOptions,
  rounds: number,
  sliceSeconds: number,
): Promise<PairedFlow> {
  const { connections, durations } = options;
  const run = async (side: { target: Target; spec: RequestSpec }, label: string) => {
    await closedLoop(side.spec, connections, SLICE_WARM_SECONDS); // back to its steady state after the other's turn
    return slice(await side.target.measure(label, () => closedLoop(side.spec, connections, sliceSeconds)));
  };
  // Both compiled and warm before the first round (V8 optimizes over the first seconds of a load).
  for (const side of [bare, umbral]) await closedLoop(side.spec, connections, durations.max);
  const out: PairedFlow['rounds'] = [];
  for (let i = 0; i < rounds; i++) {
    const bareFirst = i % 2 === 0;
    const first = await run(bareFirst ? bare : umbral, `${name} round ${i + 1} ${bareFirst ? 'bare' : 'umbral'}`);
    await sleep(200);
    const second = await run(bareFirst ? umbral : bare, `${name} round ${i + 1} ${bareFirst ? 'umbral' : 'bare'}`);
    await sleep(200);
    const [b, u] = bareFirst ? [first, second] : [second, first];
    out.push({ bare: b, umbral: u, ratio: round(u.perCore / b.perCore, 3) });
  }
  const ratios = out.map((r) => r.ratio);
  const perCoreMedian = {
    bare: Math.round(median(out.map((r) => r.bare.perCore))),
    umbral: Math.round(median(out.map((r) => r.umbral.perCore))),
  };
  return {
    rounds: out,
    ratio: { median: round(median(ratios), 2), min: Math.min(...ratios), max: Math.max(...ratios) },
    ratioOfMedians: round(perCoreMedian.umbral / perCoreMedian.bare, 2),
    perCoreMedian,
  };
}

/** Both servers up at once on the server core; client_credentials, then refresh, in alternating slices. */
export async function benchPaired(options: BenchOptions, rounds: number, sliceSeconds: number): Promise<PairedResult> {
  const { log } = options;
  const quiet = { ...options, cpuProfileDir: undefined };
  const bareServer = await startBareServer(quiet);
  try {
    const umbralServer = await startUmbralServer('postgres', quiet);
    try {
      const bare = new Target('bare', bareServer.server, quiet, bareServer.census, undefined);
      const umbral = new Target(
        'postgres',
        umbralServer.server,
        quiet,
        umbralServer.census,
        umbralServer.databaseName,
        options.census,
      );
      bare.sampler.start();
      umbral.sampler.start();
      const result: PairedResult = { rounds, sliceSeconds };
      if (options.phases.has('cc')) {
        log('  paired client_credentials…');
        result.clientCredentials = await pairedFlow(
          'client_credentials',
          { target: bare, spec: bareServer.cc },
          { target: umbral, spec: umbralServer.cc },
          quiet,
          rounds,
          sliceSeconds,
        );
      }
      if (options.phases.has('refresh')) {
        log('  paired refresh_token…');
        result.refresh = await pairedFlow(
          'refresh_token',
          { target: bare, spec: await bareServer.refresh() },
          { target: umbral, spec: await umbralServer.refresh() },
          quiet,
          rounds,
          sliceSeconds,
        );
      }
      bare.sampler.stop();
      umbral.sampler.stop();
      return result;
    } finally {
      await umbralServer.stop();
      await umbralServer.cleanup();
    }
  } finally {
    await bareServer.stop();
    await bareServer.cleanup();
  }
}

/** The paired figures as lines under the bench's table. */
export function pairedLines(result: PairedResult): string {
  const lines = [
    `Paired rounds (bare oidc-provider and Umbral on PostgreSQL running at once on the server core, taking turns under the same load; ${result.rounds} rounds of ${result.sliceSeconds} s slices each, order flipped every round):`,
    '',
    '| flow | Umbral per core (median) | bare per core (median) | ratio: median of the rounds (min–max) | ratio of the medians | other work per slice (cores of 2) |',
    '|---|---|---|---|---|---|',
  ];
  for (const [label, flow] of [
    ['client_credentials', result.clientCredentials],
    ['refresh_token', result.refresh],
  ] as const) {
    if (!flow) continue;
    const others = flow.rounds.flatMap((r) => [r.bare.otherCores, r.umbral.otherCores]);
    lines.push(
      `| ${label} | ${flow.perCoreMedian.umbral.toLocaleString('en-US')}/s | ${flow.perCoreMedian.bare.toLocaleString('en-US')}/s | **${flow.ratio.median.toFixed(2)}** (${flow.ratio.min.toFixed(2)}–${flow.ratio.max.toFixed(2)}) | ${flow.ratioOfMedians.toFixed(2)} | ${Math.min(...others).toFixed(2)}–${Math.max(...others).toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}
