import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import type { Mailer } from './mailer.ts';

/** PLACEHOLDER until the queued SMTP/dev-outbox mailer lands: logs what would be sent. */
export function createMailer(options: { config: Config; db: Kysely<Database>; logger: Logger }): Mailer & { stop(): Promise<void> } {
  return {
    async enqueue(email) {
      options.logger.info({ to: email.to, template: email.template }, 'email (not sent: mailer not implemented yet)');
    },
    async stop() {},
  };
}
