import { Webhook } from 'standardwebhooks';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Logger } from '../logging/logger.ts';
import { endpointSecretContext } from './endpoint-secret.ts';
import { MAX_ATTEMPTS, retryDelayMs } from './retry-schedule.ts';
import type { ClaimedDelivery, WebhookQueue } from './webhook-queue.ts';
import type { WebhookTransport } from './webhook-transport.ts';

export interface WebhookWorkerOptions {
  queue: WebhookQueue;
  secretBox: SecretBox;
  transport: WebhookTransport;
  logger: Logger;
  /** WEBHOOK_RETRY_BASE_SECONDS: the first retry's delay, which scales the schedule. */
  retryBaseSeconds: number;
  now: () => number;
  /** How often the queue is polled for due retries, events queued in transactions and other processes' events; default 2 s. */
  pollIntervalMs?: number;
}

/** What one run did. */
export interface WorkerRun {
  delivered: number;
  retrying: number;
  failed: number;
}

const USER_AGENT = 'Umbral-Webhooks/1.0';

/**
 * Delivers queued webhooks: every process runs one, and the claim (FOR UPDATE SKIP LOCKED) makes
 * each attempt of a delivery happen in one process only. An attempt is a POST signed as Standard
 * Webhooks says (webhook-id: the delivery's id, the same on every retry; webhook-timestamp: now;
 * webhook-signature: v1,HMAC-SHA256 of `id.timestamp.body` with the endpoint's secret). A 2xx
 * answer delivers; anything else, or none within the timeout, is retried on the schedule of
 * retry-schedule.ts, then given up. Each attempt is recorded for the endpoint's history.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<WorkerRun> | undefined;
  private again = false;
  private stopped = false;
  private started = false;
  private failing = false;

  constructor(private readonly options: WebhookWorkerOptions) {}

  /** Polls every interval (due retries, events queued by other processes or in transactions) and runs now. */
  start(): void {
    this.started = true;
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 2000);
    this.timer.unref();
    this.wake();
  }

  /** Runs soon (an event was just queued); a run under way runs again after it. */
  wake(): void {
    if (this.stopped || !this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.runOnce();
  }

  /** Delivers what is due now, batch after batch; joins the run under way, if any, and runs after it. */
  async runOnce(): Promise<WorkerRun> {
    while (this.running) await this.running;
    const run = this.runBatches().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.runOnce();
      }
    });
    this.running = run;
    return run;
  }

  /** Waits for the run under way (tests, close). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.settled();
  }

  private async runBatches(): Promise<WorkerRun> {
    const run: WorkerRun = { delivered: 0, retrying: 0, failed: 0 };
    try {
      for (;;) {
        if (this.stopped) break;
        const batch = await this.options.queue.claimDue();
        if (!batch.length) break;
        const outcomes = await Promise.all(batch.map((delivery) => this.attemptLogged(delivery)));
        for (const outcome of outcomes) if (outcome) run[outcome] += 1;
      }
      if (this.failing) this.options.logger.info({ event: 'webhook.queue_reachable' }, 'webhook queue reachable again');
      this.failing = false;
    } catch (error) {
      // Polled every few seconds: while the database is down, said once rather than at every poll.
      if (!this.failing) this.options.logger.error({ err: error }, 'webhook delivery run failed');
      this.failing = true;
    }
    return run;
  }

  /** One delivery's attempt; a failure to record it is logged, and the claim's lease brings it back. */
  private async attemptLogged(delivery: ClaimedDelivery): Promise<keyof WorkerRun | undefined> {
    try {
      return await this.attempt(delivery);
    } catch (error) {
      this.options.logger.error({ err: error, deliveryId: delivery.id }, 'webhook attempt not recorded');
      return undefined;
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<keyof WorkerRun> {
    const { queue, logger } = this.options;
    const outcome = await this.post(delivery);
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const delay = ok ? undefined : retryDelayMs(delivery.attempt, this.options.retryBaseSeconds);
    const at = this.options.now();
    const next = ok ? 'delivered' : delay === undefined ? 'failed' : new Date(at + delay);
    await queue.settle(delivery, outcome, next, new Date(at));
    const fields = {
      event: 'webhook.attempt',
      deliveryId: delivery.id,
      endpointId: delivery.endpointId,
      attempt: delivery.attempt,
      status: outcome.statusCode,
    };
    if (ok) {
      logger.debug(fields, 'webhook delivered');
      return 'delivered';
    }
    if (next === 'failed') {
      logger.warn({ ...fields, error: outcome.error }, `webhook given up after ${MAX_ATTEMPTS} attempts`);
      return 'failed';
    }
    logger.info({ ...fields, error: outcome.error }, 'webhook attempt failed; will retry');
    return 'retrying';
  }

  private async post(delivery: ClaimedDelivery) {
    let secret: string;
    try {
      secret = this.options.secretBox.open(delivery.secretSealed, endpointSecretContext(delivery.endpointId));
    } catch (error) {
      return { statusCode: null, error: `the endpoint's secret does not open: ${String(error)}`, durationMs: 0 };
    }
    // The wall clock, not the injected one: receivers check webhook-timestamp against their own
    // clock (Standard Webhooks allows 5 minutes), whatever time Umbral's schedules are run at.
    const at = new Date();
    const signature = new Webhook(secret).sign(delivery.id, at, delivery.payload);
    return this.options.transport({
      url: delivery.url,
      body: delivery.payload,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': delivery.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signature,
      },
    });
  }
}
