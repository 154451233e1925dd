import type { Logger } from '../logging/logger.ts';
import type { MailQueueRow } from '../storage/schema.ts';
import { type EmailRenderer, EmailTemplateError, type RenderedEmail } from './email-renderer.ts';
import type { MailQueue } from './mail-queue.ts';
import type { MailTransport } from './mail-transport.ts';

/** Waits after failed attempts 1…5; the 6th failure is final. */
export const DEFAULT_RETRY_DELAYS_MS = [30_000, 120_000, 600_000, 3_600_000, 21_600_000];
const DEFAULT_POLL_INTERVAL_MS = 5_000;
const PURGE_EVERY_MS = 3_600_000;

export interface MailWorkerOptions {
  queue: MailQueue;
  renderer: EmailRenderer;
  transport: MailTransport;
  from: string;
  logger: Logger;
  /** Delay before each retry; a message is tried retryDelaysMs.length + 1 times in all. */
  retryDelaysMs?: number[];
  /** How often the queue is checked for due retries (and other processes' mail) without a wake(). */
  pollIntervalMs?: number;
}

/**
 * Delivers queued email in this process, one message at a time, off the request path:
 * wake() right after an enqueue, and a poll for retries that come due.
 */
export class MailWorker {
  readonly #options: MailWorkerOptions;
  readonly #retryDelays: number[];
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #lastPurge = 0;

  constructor(options: MailWorkerOptions) {
    this.#options = options;
    this.#retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  }

  /** Starts a pass over due mail now, or right after the pass in progress. Never waits for it. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.wake();
      } else {
        this.#timer = setTimeout(() => this.wake(), this.#options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
        this.#timer.unref(); // the HTTP server keeps the process alive, not the mail poll
      }
    });
  }

  /** Resolves when no mail is pending or sending (retries included): for tests and one-shot commands. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#stopped) throw new Error('mail worker is stopped');
      this.wake();
      while (this.#running) await this.#running;
      if ((await this.#options.queue.unfinishedCount()) === 0) return;
      if (Date.now() > deadline) throw new Error(`mail queue not drained after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20)); // a retry not due yet
    }
  }

  /** Stops polling and waits for the message being sent, if any; claimed but unsent mail goes back to pending. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    while (this.#running) await this.#running;
    this.#options.transport.close();
  }

  async #pass(): Promise<void> {
    const { queue, logger } = this.#options;
    try {
      await this.#purgeWhenDue();
      for (;;) {
        const batch = await queue.claimDue();
        if (!batch.length) return;
        for (const [index, row] of batch.entries()) {
          if (this.#stopped) {
            await queue.release(batch.slice(index).map((r) => r.id));
            return;
          }
          await this.#deliver(row);
        }
      }
    } catch (error) {
      // The database itself failed (or is closing): the next poll tries again.
      logger.warn({ err: { message: (error as Error).message } }, 'mail queue pass failed');
    }
  }

  async #deliver(row: MailQueueRow): Promise<void> {
    const { queue, renderer, transport, from, logger } = this.#options;
    const about = { id: row.id, template: row.template, attempts: row.attempts };
    let failure: unknown;
    let rendered: RenderedEmail | undefined;
    try {
      rendered = await renderer.render(row.template, row.locale, row.data);
      await transport.send({ id: row.id, template: row.template, from, to: row.to_address, ...rendered });
    } catch (error) {
      failure = error;
    }
    if (failure === undefined) {
      await queue.markSent(row.id, transport.keepsCopy ? rendered : undefined);
      if (transport.kind === 'smtp') logger.info(about, 'email sent');
      return;
    }
    const reason = describe(failure);
    if (isPermanent(failure) || row.attempts > this.#retryDelays.length) {
      await queue.markFailed(row.id, reason);
      logger.warn({ ...about, error: reason }, 'email delivery failed; giving up');
      return;
    }
    const delayMs = this.#retryDelays[row.attempts - 1]!;
    await queue.markRetry(row.id, reason, delayMs);
    logger.warn(
      { ...about, error: reason, retryInSeconds: Math.round(delayMs / 1000) },
      'email delivery failed; will retry',
    );
  }

  async #purgeWhenDue(): Promise<void> {
    if (Date.now() - this.#lastPurge < PURGE_EVERY_MS) return;
    this.#lastPurge = Date.now();
    const purged = await this.#options.queue.purgeFinished();
    if (purged) this.#options.logger.debug({ purged }, 'purged old mail queue rows');
  }
}

/** The error's code and message (SMTP replies included), never the message body. */
function describe(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message ? message : String(error);
  return typeof code === 'string' && !text.startsWith(code) ? `${code}: ${text}` : text;
}

/**
 * A broken template, or an SMTP 5xx about this message (unknown mailbox, rejected content), fails
 * the same way on every retry. Authentication and connection errors are the server's or the
 * operator's to fix, so those keep retrying.
 */
function isPermanent(error: unknown): boolean {
  if (error instanceof EmailTemplateError) return true;
  const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
  return (
    typeof responseCode === 'number' &&
    responseCode >= 500 &&
    responseCode < 600 &&
    code !== 'EAUTH' &&
    code !== 'ECONNECTION'
  );
}
