/** What is kept per counter key. Times are milliseconds since the epoch. */
export interface FailureCounter {
  failures: number;
  lastFailureAt: number;
  /** The last failure plus the window: past this the counter counts for nothing. */
  expiresAt: number;
}

/** A failure to count under `key`, whose count starts over after `windowMs` without failures. */
export interface CountedFailure {
  key: string;
  windowMs: number;
}

/** Where failure counters live: the database by default, Redis when configured. */
export interface ThrottleStore {
  /** The counters stored under `keys`, expired or not; missing keys are absent from the map. */
  read(keys: readonly string[]): Promise<Map<string, FailureCounter>>;
  /**
   * Counts one failure at `now` under each key, each atomically even against other processes:
   * a counter whose window has passed starts over at 1.
   */
  recordFailure(failures: readonly CountedFailure[], now: number): Promise<void>;
  clear(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
