/** How one failure counter turns failures into a wait before the next attempt. */
export interface CounterPolicy {
  /** Failures within the window that cost nothing. */
  freeFailures: number;
  /** Wait after the first failure past the free ones; each further failure doubles it. */
  baseDelayMs: number;
  /** The wait never grows beyond this. */
  maxDelayMs: number;
  /** The count starts over once this long passes without a failure. */
  windowMs: number;
}

/** The three counters every password attempt is checked against. */
export interface ThrottlePolicy {
  /** One account from one IP address: the classic online guessing attack. */
  pair: CounterPolicy;
  /** One account from any IP address: guessing spread over many addresses. */
  account: CounterPolicy;
  /** One IP address against any account: password spraying. */
  ip: CounterPolicy;
}

/** Overrides for some counters or some of their settings; the rest keep the defaults. */
export type ThrottlePolicyOverrides = { [Counter in keyof ThrottlePolicy]?: Partial<CounterPolicy> };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const DEFAULT_THROTTLE_POLICY: Readonly<ThrottlePolicy> = Object.freeze({
  pair: { freeFailures: 5, baseDelayMs: SECOND, maxDelayMs: 15 * MINUTE, windowMs: 15 * MINUTE },
  // Anyone can push this counter up from many addresses just by knowing a victim's email, and it
  // applies to the victim's own address too. A short cap keeps such an attack from locking the
  // victim out for long, while still holding distributed guessing to about one try a minute.
  account: { freeFailures: 10, baseDelayMs: SECOND, maxDelayMs: MINUTE, windowMs: 15 * MINUTE },
  // Generous, since many people can share one address (offices, carrier NAT).
  ip: { freeFailures: 50, baseDelayMs: SECOND, maxDelayMs: 15 * MINUTE, windowMs: HOUR },
});

export function resolveThrottlePolicy(overrides: ThrottlePolicyOverrides = {}): ThrottlePolicy {
  const policy: ThrottlePolicy = {
    pair: { ...DEFAULT_THROTTLE_POLICY.pair, ...overrides.pair },
    account: { ...DEFAULT_THROTTLE_POLICY.account, ...overrides.account },
    ip: { ...DEFAULT_THROTTLE_POLICY.ip, ...overrides.ip },
  };
  for (const [name, counter] of Object.entries(policy)) assertValidCounterPolicy(name, counter);
  return policy;
}

function assertValidCounterPolicy(name: string, counter: CounterPolicy): void {
  const { freeFailures, baseDelayMs, maxDelayMs, windowMs } = counter;
  if (!Number.isInteger(freeFailures) || freeFailures < 0)
    throw new RangeError(`throttle policy ${name}.freeFailures must be a whole number ≥ 0`);
  if (!(baseDelayMs > 0)) throw new RangeError(`throttle policy ${name}.baseDelayMs must be > 0`);
  if (!(maxDelayMs >= baseDelayMs)) throw new RangeError(`throttle policy ${name}.maxDelayMs must be ≥ baseDelayMs`);
  if (!(windowMs > 0)) throw new RangeError(`throttle policy ${name}.windowMs must be > 0`);
}

/** The wait owed after the last of `failures` failures: none while free, then base × 2ⁿ up to the cap. */
export function delayAfterFailures(counter: CounterPolicy, failures: number): number {
  const excess = failures - counter.freeFailures;
  if (excess <= 0) return 0;
  // Past about 2^40 the cap has long been reached; bounding the exponent keeps the number finite.
  return Math.min(counter.maxDelayMs, counter.baseDelayMs * 2 ** Math.min(excess - 1, 40));
}
