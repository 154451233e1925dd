import type { Kysely } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import type { WebhookEventPayloads, WebhookEvents, WebhookEventType, WebhookExecutor } from './webhook-events.ts';
import { WebhookQueue } from './webhook-queue.ts';

/**
 * The WebhookEvents that src/app.ts hands to capabilities: `emit` is the queue's insert (in the
 * caller's transaction when given one) and a nudge to this process's worker, so a delivery
 * starts at once without the request waiting for it. Events emitted in a transaction are found
 * by the worker's next poll (it cannot tell when the transaction commits).
 */
export class WebhookEventQueue implements WebhookEvents {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly queue: WebhookQueue,
    private readonly logger: Logger,
    private readonly wake: () => void,
  ) {}

  emit<T extends WebhookEventType>(type: T, data: WebhookEventPayloads[T], within?: WebhookExecutor): Promise<void> {
    if (within) return this.queue.enqueue(type, data, within).then(() => undefined);
    const insert = this.queue
      .enqueue(type, data)
      .then((queued) => {
        if (queued) this.wake();
      })
      .catch((error: unknown) => {
        this.logger.error({ err: error, event: 'webhook.enqueue_failed', type }, 'webhook event not queued');
      })
      .finally(() => this.inFlight.delete(insert));
    this.inFlight.add(insert);
    return insert;
  }

  /** Waits for inserts started without a transaction (close, tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.all(this.inFlight);
  }
}

/**
 * Events queued only, for a short-lived process (the CLI): the servers' workers deliver them.
 * Each emit resolves once its insert is done, so a command's events are queued before it exits.
 */
export function queuedWebhookEvents(db: Kysely<Database>, logger: Logger): WebhookEvents {
  return new WebhookEventQueue(new WebhookQueue(db, Date.now), logger, () => {});
}
