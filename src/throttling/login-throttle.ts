import type { Kysely } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { DatabaseThrottleStore } from './database-throttle-store.ts';
import { FallbackThrottleStore } from './fallback-throttle-store.ts';
import { throttleKeys } from './throttle-keys.ts';
import {
  delayAfterFailures,
  resolveThrottlePolicy,
  type ThrottlePolicy,
  type ThrottlePolicyOverrides,
} from './throttle-policy.ts';
import type { FailureCounter, ThrottleStore } from './throttle-store.ts';

export { purgeExpiredThrottle } from './database-throttle-store.ts';
export {
  type CounterPolicy,
  DEFAULT_THROTTLE_POLICY,
  type ThrottlePolicy,
  type ThrottlePolicyOverrides,
} from './throttle-policy.ts';

export interface ThrottleDecision {
  allowed: boolean;
  /** Whole seconds until an attempt may go ahead; 0 when allowed. */
  retryAfterSeconds: number;
}

/**
 * Slows password guessing with three failure counters: per account and address, per account
 * from anywhere, and per address against any account. See `DEFAULT_THROTTLE_POLICY`.
 */
export interface LoginThrottle {
  /** Before verifying a password: may this attempt go ahead now? */
  check(identifier: string, ip: string): Promise<ThrottleDecision>;
  recordFailure(identifier: string, ip: string): Promise<void>;
  /**
   * A good login clears the (identifier, ip) counter and the identifier counter (not the IP one).
   * Given the attempt's `check`, it writes nothing when neither counter existed then (most logins).
   */
  recordSuccess(identifier: string, ip: string, checked?: ThrottleDecision): Promise<void>;
  close(): Promise<void>;
}

export interface LoginThrottleOptions {
  db: Kysely<Database>;
  /** When set, counters live in Redis instead of the database (in the database while Redis is unreachable). */
  redisUrl?: string | undefined;
  /** Prefix of Redis keys; defaults to `umbral:throttle:` (tests use one of their own). */
  redisKeyPrefix?: string | undefined;
  /** Milliseconds since the epoch; tests move it instead of sleeping. */
  now?: () => number;
  policy?: ThrottlePolicyOverrides;
  /** Told when Redis becomes unreachable and when it answers again. */
  logger?: Pick<Logger, 'warn' | 'info'>;
}

const SCOPES = ['pair', 'account', 'ip'] as const satisfies readonly (keyof ThrottlePolicy)[];

export async function createLoginThrottle(options: LoginThrottleOptions): Promise<LoginThrottle> {
  const policy = resolveThrottlePolicy(options.policy);
  const now = options.now ?? Date.now;
  const database = new DatabaseThrottleStore(options.db);
  let store: ThrottleStore = database;
  if (options.redisUrl) {
    // Loaded only with REDIS_URL: ioredis costs a few MB of RSS a server without Redis never needs.
    const { RedisThrottleStore } = await import('./redis-throttle-store.ts');
    store = new FallbackThrottleStore(
      new RedisThrottleStore(options.redisUrl, options.redisKeyPrefix),
      database,
      options.logger,
    );
  }

  /** How long the attempt must still wait because of one counter, in ms. */
  function remainingWait(scope: keyof ThrottlePolicy, counter: FailureCounter | undefined, at: number): number {
    if (!counter || counter.expiresAt < at) return 0;
    const delay = delayAfterFailures(policy[scope], counter.failures);
    // Once the window passes the count starts over, so no wait outlasts it.
    const waitEnds = Math.min(counter.lastFailureAt + delay, counter.expiresAt);
    return Math.max(0, waitEnds - at);
  }

  /** The decisions made while a counter that a success clears (pair, account) existed. */
  const counted = new WeakSet<ThrottleDecision>();

  return {
    async check(identifier, ip) {
      const keys = throttleKeys(identifier, ip);
      const counters = await store.read(SCOPES.map((scope) => keys[scope]));
      const at = now();
      const wait = Math.max(...SCOPES.map((scope) => remainingWait(scope, counters.get(keys[scope]), at)));
      const decision: ThrottleDecision =
        wait > 0
          ? { allowed: false, retryAfterSeconds: Math.ceil(wait / 1000) }
          : { allowed: true, retryAfterSeconds: 0 };
      if (counters.has(keys.pair) || counters.has(keys.account)) counted.add(decision);
      return decision;
    },

    async recordFailure(identifier, ip) {
      const keys = throttleKeys(identifier, ip);
      await store.recordFailure(
        SCOPES.map((scope) => ({ key: keys[scope], windowMs: policy[scope].windowMs })),
        now(),
      );
    },

    async recordSuccess(identifier, ip, checked) {
      if (checked && !counted.has(checked)) return; // nothing to clear (a failure since then stays, as it happened)
      const keys = throttleKeys(identifier, ip);
      // The address counter stays: one good password (say, the attacker's own account) must not
      // wipe out the record of spraying other accounts from the same address.
      await store.clear([keys.pair, keys.account]);
    },

    close: () => store.close(),
  };
}
