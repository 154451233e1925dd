import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';

export interface WindowCount {
  count: number;
  /** Whole seconds until the window ends (at least 1). */
  retryAfterSeconds: number;
}

/**
 * Fixed-window counters in the `throttle` table (the same table, and the same purge of expired
 * rows, as the login throttle); used by the password-reset and sign-up limits. Each hit is one
 * statement, so concurrent requests and processes cannot lose counts.
 */
export class FixedWindowCounter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one event under `key` and returns the count in the current window, this one included. */
  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const at = this.now();
    const row = await this.db
      .insertInto('throttle')
      .values({ key, failures: 1, last_failure_at: new Date(at), expires_at: new Date(at + windowMs) })
      .onConflict((conflict) =>
        conflict.column('key').doUpdateSet({
          failures: sql<number>`case when throttle.expires_at <= excluded.last_failure_at then 1 else throttle.failures + 1 end`,
          expires_at: sql<Date>`case when throttle.expires_at <= excluded.last_failure_at then excluded.expires_at else throttle.expires_at end`,
          last_failure_at: sql<Date>`greatest(throttle.last_failure_at, excluded.last_failure_at)`,
        }),
      )
      .returning(['failures', 'expires_at'])
      .executeTakeFirstOrThrow();
    return { count: row.failures, retryAfterSeconds: secondsUntil(new Date(row.expires_at).getTime(), at) };
  }

  /** The count in the current window, without counting anything. */
  async peek(key: string): Promise<WindowCount> {
    const at = this.now();
    const row = await this.db
      .selectFrom('throttle')
      .select(['failures', 'expires_at'])
      .where('key', '=', key)
      .executeTakeFirst();
    const expiresAt = row ? new Date(row.expires_at).getTime() : 0;
    if (!row || expiresAt <= at) return { count: 0, retryAfterSeconds: 0 };
    return { count: row.failures, retryAfterSeconds: secondsUntil(expiresAt, at) };
  }
}

function secondsUntil(time: number, now: number): number {
  return Math.max(1, Math.ceil((time - now) / 1000));
}
