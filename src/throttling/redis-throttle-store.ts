import { Redis, type RedisOptions, type Result } from 'ioredis';
import type { CountedFailure, FailureCounter, ThrottleStore } from './throttle-store.ts';

export const REDIS_THROTTLE_PREFIX = 'umbral:throttle:';

/**
 * Counts one failure in the hash at KEYS[1] (ARGV: now, window, both in ms). Redis runs a script
 * without interleaving other commands, so the reset-or-increment is atomic across processes.
 * `max()` keeps a process whose clock lags from moving the counter back in time.
 */
const RECORD_FAILURE_LUA = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local stored = redis.call('HMGET', KEYS[1], 'failures', 'last', 'expires')
local failures, last, expires = tonumber(stored[1]), tonumber(stored[2]), tonumber(stored[3])
if failures == nil or last == nil or expires == nil or expires < now then
  failures, last, expires = 1, now, now + window
else
  failures, last, expires = failures + 1, math.max(last, now), math.max(expires, now + window)
end
redis.call('HSET', KEYS[1], 'failures', failures, 'last', string.format('%d', last), 'expires', string.format('%d', expires))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.max(expires - now, 1)))
return failures
`;

/**
 * Fail fast while Redis is away, so the database answers instead (FallbackThrottleStore): ioredis's
 * defaults queue a command while disconnected and retry it across reconnections, so a sign-in
 * waited seconds for an error. Here a command fails at once when there is no connection, and
 * after a second on a connection that stopped answering.
 */
export const REDIS_THROTTLE_OPTIONS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 1000,
  commandTimeout: 1000,
} as const satisfies RedisOptions;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    umbralThrottleRecordFailure(key: string, now: number, windowMs: number): Result<number, Context>;
  }
}

/** Failure counters in Redis, one hash per key, each expiring with its window. */
export class RedisThrottleStore implements ThrottleStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  /** Settles when the first connection is made or fails: without an offline queue, commands wait for it. */
  readonly #firstAttempt: Promise<void>;

  constructor(url: string, prefix = REDIS_THROTTLE_PREFIX) {
    this.#prefix = prefix;
    this.#redis = new Redis(url, REDIS_THROTTLE_OPTIONS);
    // Without a listener ioredis prints every connection error; commands still reject, so callers see them.
    this.#redis.on('error', () => {});
    this.#firstAttempt = new Promise((resolve) => {
      const settled = () => {
        for (const event of ['ready', 'error', 'end']) this.#redis.off(event, settled);
        resolve();
      };
      for (const event of ['ready', 'error', 'end']) this.#redis.once(event, settled);
    });
    this.#redis.defineCommand('umbralThrottleRecordFailure', { numberOfKeys: 1, lua: RECORD_FAILURE_LUA });
  }

  /** The options the client runs with (tests check them). */
  get clientOptions(): RedisOptions {
    return this.#redis.options;
  }

  async read(keys: readonly string[]): Promise<Map<string, FailureCounter>> {
    await this.#firstAttempt;
    const stored = await Promise.all(
      keys.map((key) => this.#redis.hmget(this.#prefix + key, 'failures', 'last', 'expires')),
    );
    const counters = new Map<string, FailureCounter>();
    keys.forEach((key, index) => {
      const [failures, last, expires] = stored[index] ?? [];
      if (failures && last && expires) {
        counters.set(key, { failures: Number(failures), lastFailureAt: Number(last), expiresAt: Number(expires) });
      }
    });
    return counters;
  }

  async recordFailure(failures: readonly CountedFailure[], now: number): Promise<void> {
    await this.#firstAttempt;
    // One script per key rather than one over all keys: each counter only needs to be atomic by
    // itself, and single-key scripts also work when the keys live on different cluster nodes.
    await Promise.all(
      failures.map(({ key, windowMs }) =>
        this.#redis.umbralThrottleRecordFailure(this.#prefix + key, Math.round(now), Math.round(windowMs)),
      ),
    );
  }

  async clear(keys: readonly string[]): Promise<void> {
    await this.#firstAttempt;
    await Promise.all(keys.map((key) => this.#redis.unlink(this.#prefix + key)));
  }

  async close(): Promise<void> {
    // quit() lets pending commands finish, but waits forever for a connection that is down.
    if (this.#redis.status !== 'ready') return this.#redis.disconnect();
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}
