import { CompiledQuery, type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { selectWhereIn } from '../storage/sql-placeholders.ts';
import type { CountedFailure, FailureCounter, ThrottleStore } from './throttle-store.ts';

const COUNTERS_BY_KEY = 'select * from throttle where key in';

/** Failure counters in the `throttle` table (PGlite or PostgreSQL). */
export class DatabaseThrottleStore implements ThrottleStore {
  constructor(private readonly db: Kysely<Database>) {}

  async read(keys: readonly string[]): Promise<Map<string, FailureCounter>> {
    const counters = new Map<string, FailureCounter>();
    if (!keys.length) return counters;
    // Asked at every sign-in attempt: written out once per key count rather than built each time.
    const { rows } = await this.db.executeQuery<Selectable<Database['throttle']>>(
      CompiledQuery.raw(selectWhereIn(COUNTERS_BY_KEY, keys.length), [...keys]),
    );
    for (const row of rows) {
      counters.set(row.key, {
        failures: row.failures,
        lastFailureAt: new Date(row.last_failure_at).getTime(),
        expiresAt: new Date(row.expires_at).getTime(),
      });
    }
    return counters;
  }

  async recordFailure(failures: readonly CountedFailure[], now: number): Promise<void> {
    if (!failures.length) return;
    const at = new Date(now);
    // Rows sorted by key: concurrent statements then lock shared rows in the same order and cannot deadlock.
    const rows = [...failures]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ key, windowMs }) => ({ key, failures: 1, last_failure_at: at, expires_at: new Date(now + windowMs) }));
    // One statement, so the read and the increment cannot interleave with another process's.
    // `excluded` is the row this statement tried to insert: its times come from `now`.
    await this.db
      .insertInto('throttle')
      .values(rows)
      .onConflict((conflict) =>
        conflict.column('key').doUpdateSet({
          failures: sql<number>`case when throttle.expires_at < excluded.last_failure_at then 1 else throttle.failures + 1 end`,
          // greatest(): a process whose clock lags must not move the counter back in time.
          last_failure_at: sql<Date>`greatest(throttle.last_failure_at, excluded.last_failure_at)`,
          expires_at: sql<Date>`greatest(throttle.expires_at, excluded.expires_at)`,
        }),
      )
      .execute();
  }

  async clear(keys: readonly string[]): Promise<void> {
    if (!keys.length) return;
    await this.db.deleteFrom('throttle').where('key', 'in', keys).execute();
  }

  async close(): Promise<void> {
    // The database belongs to the caller.
  }
}

/** Deletes counters whose window has passed; returns how many. */
export async function purgeExpiredThrottle(db: Kysely<Database>, now: Date = new Date()): Promise<number> {
  const result = await db.deleteFrom('throttle').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
