import type { Logger } from '../logging/logger.ts';
import type { CountedFailure, FailureCounter, ThrottleStore } from './throttle-store.ts';

/**
 * Redis's counters, and the database's while Redis does not answer: a Redis outage neither blocks
 * sign-ins (its errors were 500s) nor lets guessing go unthrottled. Counts made during the outage
 * stay in the database and are not merged back into Redis; they expire with their windows. The
 * outage is logged once when it starts and once when Redis answers again.
 */
export class FallbackThrottleStore implements ThrottleStore {
  #usingFallback = false;

  constructor(
    private readonly redis: ThrottleStore,
    private readonly database: ThrottleStore,
    private readonly logger?: Pick<Logger, 'warn' | 'info'>,
  ) {}

  async #run<T>(operation: (store: ThrottleStore) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await operation(this.redis);
    } catch (error) {
      if (!this.#usingFallback) {
        this.#usingFallback = true;
        this.logger?.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'Redis unreachable: login throttling counts in the database until it answers',
        );
      }
      return operation(this.database);
    }
    if (this.#usingFallback) {
      this.#usingFallback = false;
      this.logger?.info('Redis answers again: login throttling counts in Redis');
    }
    return result;
  }

  read(keys: readonly string[]): Promise<Map<string, FailureCounter>> {
    return this.#run((store) => store.read(keys));
  }

  recordFailure(failures: readonly CountedFailure[], now: number): Promise<void> {
    return this.#run((store) => store.recordFailure(failures, now));
  }

  clear(keys: readonly string[]): Promise<void> {
    return this.#run((store) => store.clear(keys));
  }

  async close(): Promise<void> {
    await Promise.all([this.redis.close(), this.database.close()]);
  }
}
