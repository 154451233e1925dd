/**
 * Preloaded into the server by the bench (`node --import tsx --import ./scripts/bench/census-preload.ts`):
 * - with BENCH_CENSUS_SQL=1, counts the SQL statements the app runs, and the time until each
 *   one answers, by statement text (it wraps pg's Client#query and PGlite#query);
 * - measures event-loop delay and garbage-collection pauses.
 * It changes nothing else. On SIGUSR2 it carries out the command in $BENCH_CENSUS_FILE.cmd, if
 * any (start or stop a V8 CPU profile of this thread, for one load phase), then writes the
 * totals so far, with a sequence number, to $BENCH_CENSUS_FILE; loop and GC figures cover the
 * time since the previous SIGUSR2.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

interface Entry {
  count: number;
  ms: number;
}

const statements = new Map<string, Entry>();
// Each statement text's entry, found without normalizing the text again: the census must not
// cost the server it measures (normalizing a batched upsert's text took ~4 µs per request).
const entryByText = new Map<string, Entry>();
let seq = 0;

function record(sql: unknown, ms: number): void {
  const text =
    typeof sql === 'string'
      ? sql
      : typeof (sql as { text?: unknown })?.text === 'string'
        ? (sql as { text: string }).text
        : '?';
  let entry = entryByText.get(text);
  if (!entry) {
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 240);
    entry = statements.get(key) ?? { count: 0, ms: 0 };
    statements.set(key, entry);
    if (entryByText.size < 10_000) entryByText.set(text, entry);
  }
  entry.count++;
  entry.ms += ms;
}

function wrap(proto: { query: (...args: unknown[]) => unknown }): void {
  const original = proto.query;
  proto.query = function query(this: unknown, ...args: unknown[]) {
    const started = performance.now();
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => record(args[0], performance.now() - started),
        () => record(args[0], performance.now() - started),
      );
    } else {
      record(args[0], 0); // callback form: counted, not timed
    }
    return result;
  };
}

if (process.env['BENCH_CENSUS_SQL'] === '1') {
  const [{ PGlite }, { default: pg }] = await Promise.all([import('@electric-sql/pglite'), import('pg')]);
  wrap(pg.Client.prototype as never);
  wrap(PGlite.prototype as never);
}

const loop = monitorEventLoopDelay({ resolution: 2 });
loop.enable();
const gc = { count: 0, totalMs: 0, maxMs: 0, majorCount: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    // NODE_PERFORMANCE_GC_MAJOR = 4 (mark-sweep-compact)
    if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === 4) {
      gc.majorCount++;
      gc.majorMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

/** Loop delay and GC since the previous reading; resets both. */
function sinceLast() {
  const r = (x: number) => Math.round(x * 100) / 100;
  const out = {
    loopDelayMs: { p50: r(loop.percentile(50) / 1e6), p99: r(loop.percentile(99) / 1e6), max: r(loop.max / 1e6) },
    gc: {
      count: gc.count,
      totalMs: r(gc.totalMs),
      maxMs: r(gc.maxMs),
      majorCount: gc.majorCount,
      majorMs: r(gc.majorMs),
    },
  };
  loop.reset();
  Object.assign(gc, { count: 0, totalMs: 0, maxMs: 0, majorCount: 0, majorMs: 0 });
  return out;
}

let session: inspector.Session | undefined;
function post(method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

async function command(cmd: { action?: string; path?: string }): Promise<void> {
  if (cmd.action === 'profile-start') {
    if (!session) {
      session = new inspector.Session();
      session.connect();
      await post('Profiler.enable');
    }
    await post('Profiler.start');
  } else if (cmd.action === 'profile-stop' && session && cmd.path) {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    fs.writeFileSync(cmd.path, JSON.stringify(profile));
  }
}

process.on('SIGUSR2', () => {
  const file = process.env['BENCH_CENSUS_FILE'];
  if (!file) return;
  let cmd: { action?: string; path?: string } = {};
  try {
    cmd = JSON.parse(fs.readFileSync(`${file}.cmd`, 'utf8')) as typeof cmd;
    fs.rmSync(`${file}.cmd`);
  } catch {
    // no command: just the census
  }
  void command(cmd)
    .catch((error: unknown) => process.stderr.write(`census: ${String(error)}\n`))
    .finally(() => {
      seq++;
      const memory = process.memoryUsage();
      const snapshot = {
        seq,
        ...sinceLast(),
        statements: Object.fromEntries(statements),
        memory: {
          rss: memory.rss,
          heapTotal: memory.heapTotal,
          heapUsed: memory.heapUsed,
          external: memory.external,
          arrayBuffers: memory.arrayBuffers,
        },
      };
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(snapshot));
      fs.renameSync(`${file}.tmp`, file);
    });
});
