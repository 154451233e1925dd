import type { Logger } from '../logging/logger.ts';

/**
 * Runs every capability's purge of expired rows on an interval (PURGE_INTERVAL_SECONDS), logging
 * how many rows each removed. The timer does not keep the process alive; `stop()` ends it.
 */
export function startPurgeTimer(
  logger: Logger,
  intervalSeconds: number,
  purges: Record<string, () => Promise<number>>,
): { stop(): void } {
  const names = Object.keys(purges);
  const timer = setInterval(() => {
    Promise.all(names.map((name) => purges[name]!())).then(
      (counts) => logger.debug(Object.fromEntries(names.map((name, i) => [name, counts[i]])), 'purged expired rows'),
      (error) => logger.warn({ err: error }, 'purge of expired rows failed'),
    );
  }, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
