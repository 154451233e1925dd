import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { EmailRenderer } from './email-renderer.ts';
import { MailQueue } from './mail-queue.ts';
import { type MailTransport, outboxTransport, smtpTransport } from './mail-transport.ts';
import { MailWorker } from './mail-worker.ts';
import type { Mailer } from './mailer.ts';

export interface MailerOptions {
  config: Config;
  db: Kysely<Database>;
  logger: Logger;
  /** Delay before each retry (default 30 s, 2 min, 10 min, 1 h, 6 h: six attempts in all). */
  retryDelaysMs?: number[];
  /** How often the queue is polled for due retries (default 5 s). */
  pollIntervalMs?: number;
  /** Email templates directory (default views/emails). */
  viewsDir?: string;
  /** Replaces SMTP / the dev outbox (tests). */
  transport?: MailTransport;
}

export interface QueuedMailer extends Mailer {
  /** Resolves once nothing is pending or sending (tests, one-shot commands); rejects after timeoutMs. */
  drain(timeoutMs?: number): Promise<void>;
  /** Stops the worker, waiting for a send in progress. */
  stop(): Promise<void>;
  /** Sends now what a caller queued through MailQueue itself (in its own transaction), not at the next poll. */
  wake(): void;
}

/**
 * The mailer: enqueue() stores the message and wakes the in-process worker, which renders and
 * sends it over SMTP_URL, or, without SMTP_URL (only on a loopback ISSUER outside production:
 * config refuses anything else), keeps it in the dev outbox at /dev/outbox.
 */
export function createMailer(options: MailerOptions): QueuedMailer {
  const { config, logger } = options;
  const queue = new MailQueue(options.db);
  const transport =
    options.transport ?? (config.smtpUrl ? smtpTransport(config.smtpUrl) : outboxTransport(config.issuer, logger));
  if (transport.kind === 'outbox')
    logger.info({ outbox: `${config.issuer}/dev/outbox` }, 'no SMTP_URL: emails are kept in the dev outbox, not sent');
  const worker = new MailWorker({
    queue,
    transport,
    logger,
    from: config.mailFrom,
    renderer: new EmailRenderer({
      productName: config.productName,
      logoUrl: config.logoUrl,
      issuer: config.issuer,
      cache: config.production,
      ...(options.viewsDir ? { viewsDir: options.viewsDir } : {}),
    }),
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
  });
  worker.wake(); // mail left from before a restart, or enqueued by another process

  return {
    async enqueue(email) {
      await queue.add(email);
      worker.wake();
    },
    drain: (timeoutMs) => worker.drain(timeoutMs),
    stop: () => worker.stop(),
    wake: () => worker.wake(),
  };
}
