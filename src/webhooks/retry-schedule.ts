/**
 * When a failed delivery is tried again. With the default base of 10 s: 10 s, 1 min, 5 min,
 * 30 min, 2 h, 5 h, 8 h and 8 h after each failure, so the first retry comes within 30 seconds
 * and the last about 23.6 hours after the first attempt; then the delivery is given up.
 * WEBHOOK_RETRY_BASE_SECONDS scales the whole schedule (tests shorten it).
 */
const MULTIPLIERS = [1, 6, 30, 180, 720, 1800, 2880, 2880];

/** Attempts in all: the first and one per retry. */
export const MAX_ATTEMPTS = MULTIPLIERS.length + 1;

/** The delay in milliseconds after failed attempt number `attempt` (from 1), or undefined: give up. */
export function retryDelayMs(attempt: number, baseSeconds: number): number | undefined {
  const multiplier = MULTIPLIERS[attempt - 1];
  return multiplier === undefined ? undefined : multiplier * baseSeconds * 1000;
}
