import type { Logger } from '../logging/logger.ts';

/**
 * A run repeated every interval, as companies' schedulers need: the first after one interval, a
 * tick skipped while the previous run is still going, a failure logged and the next tick tried,
 * and `stop()` waiting for a run under way. The timer never keeps the process alive.
 */
export class PeriodicRun {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly failure: string,
  ) {}

  start(intervalSeconds: number): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.run()
        .catch((error: unknown) => this.logger.error({ err: error }, this.failure))
        .finally(() => (this.running = undefined));
    }, intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
