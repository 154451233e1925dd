/** Reads the server's statement counts (see census-preload.ts) and turns two readings into per-request figures. */
import fs from 'node:fs';
import { isWriteStatement } from '../../test/support/statement-count.ts';
import { round, sleep } from './stats.ts';

export interface CensusSnapshot {
  seq: number;
  /** Since the previous reading. */
  loopDelayMs: { p50: number; p99: number; max: number };
  gc: { count: number; totalMs: number; maxMs: number; majorCount: number; majorMs: number };
  statements: Record<string, { count: number; ms: number }>;
  memory: Record<string, number>;
}

export interface QueryProfile {
  /** SQL statements per successful request. */
  perRequest: number;
  /** Of those, the writes (insert, update, delete, a data-modifying with): each its own commit. */
  writesPerRequest: number;
  /** Time until those statements answered, summed, per request (ms). */
  dbMsPerRequest: number;
  /** The statements, most frequent first. */
  statements: Array<{ sql: string; perRequest: number; msPerRequest: number }>;
}

export class Census {
  private seq = 0;
  constructor(
    private readonly pid: number,
    private readonly file: string,
  ) {}

  /** Starts a CPU profile of the server's main thread. */
  async profileStart(): Promise<void> {
    fs.writeFileSync(`${this.file}.cmd`, JSON.stringify({ action: 'profile-start' }));
    await this.read();
  }

  /** Stops the CPU profile and has the server write it to `path` (.cpuprofile). */
  async profileStop(path: string): Promise<void> {
    fs.writeFileSync(`${this.file}.cmd`, JSON.stringify({ action: 'profile-stop', path }));
    await this.read(10_000);
  }

  async read(timeoutMs = 2000): Promise<CensusSnapshot | undefined> {
    const want = ++this.seq;
    try {
      process.kill(this.pid, 'SIGUSR2');
    } catch {
      return undefined;
    }
    for (let i = 0; i < timeoutMs / 50; i++) {
      try {
        const snapshot = JSON.parse(fs.readFileSync(this.file, 'utf8')) as CensusSnapshot;
        if (snapshot.seq >= want) {
          this.seq = snapshot.seq;
          return snapshot;
        }
      } catch {
        // not written yet
      }
      await sleep(50);
    }
    return undefined;
  }
}

export function profile(
  before: CensusSnapshot | undefined,
  after: CensusSnapshot | undefined,
  requests: number,
): QueryProfile | undefined {
  if (!before || !after || requests === 0) return undefined;
  const statements: QueryProfile['statements'] = [];
  let count = 0;
  let writes = 0;
  let ms = 0;
  for (const [sql, end] of Object.entries(after.statements)) {
    const start = before.statements[sql] ?? { count: 0, ms: 0 };
    const dc = end.count - start.count;
    if (dc <= 0) continue;
    const dm = end.ms - start.ms;
    count += dc;
    if (isWriteStatement(sql)) writes += dc;
    ms += dm;
    statements.push({ sql, perRequest: round(dc / requests, 3), msPerRequest: round(dm / requests, 3) });
  }
  statements.sort((a, b) => b.perRequest - a.perRequest || b.msPerRequest - a.msPerRequest);
  return {
    perRequest: round(count / requests, 2),
    writesPerRequest: round(writes / requests, 2),
    dbMsPerRequest: round(ms / requests, 3),
    statements,
  };
}
