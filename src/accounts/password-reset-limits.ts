import { sql, type Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { hashIdentifier, throttledAddress } from '../throttling/throttle-keys.ts';

/** At most `limit` events per fixed window of `windowMs`. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface PasswordResetLimits {
  /** "Forgot password" requests naming one email, from anywhere: caps the mail one address can be sent. */
  forgotPerAccount: RateLimit;
  /** "Forgot password" requests from one address, any email: caps mail bombing and probing. */
  forgotPerIp: RateLimit;
  /** Reset links that turned out invalid, from one address. */
  badTokensPerIp: RateLimit;
}

const MINUTE = 60 * 1000;

export const DEFAULT_PASSWORD_RESET_LIMITS: Readonly<PasswordResetLimits> = Object.freeze({
  forgotPerAccount: { limit: 3, windowMs: 15 * MINUTE },
  forgotPerIp: { limit: 20, windowMs: 60 * MINUTE },
  badTokensPerIp: { limit: 10, windowMs: 15 * MINUTE },
});

/** The `throttle` rows these limits use; prefixes apart from the login throttle's (acct:, acct-ip:, ip:). */
export const resetLimitKeys = {
  forgotAccount: (email: string) => `pwreset-acct:${hashIdentifier(email)}`,
  forgotIp: (ip: string) => `pwreset-ip:${throttledAddress(ip)}`,
  badTokenIp: (ip: string) => `pwreset-bad:${throttledAddress(ip)}`,
};

export interface WindowCount {
  count: number;
  /** Whole seconds until the window ends (at least 1). */
  retryAfterSeconds: number;
}

/**
 * Fixed-window counters in the `throttle` table (the same table, and the same purge of expired
 * rows, as the login throttle). Each hit is one statement, so concurrent requests and processes
 * cannot lose counts.
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
    const row = await this.db.selectFrom('throttle').select(['failures', 'expires_at']).where('key', '=', key).executeTakeFirst();
    const expiresAt = row ? new Date(row.expires_at).getTime() : 0;
    if (!row || expiresAt <= at) return { count: 0, retryAfterSeconds: 0 };
    return { count: row.failures, retryAfterSeconds: secondsUntil(expiresAt, at) };
  }
}

function secondsUntil(time: number, now: number): number {
  return Math.max(1, Math.ceil((time - now) / 1000));
}
