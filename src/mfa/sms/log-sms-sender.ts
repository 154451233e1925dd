import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from '../../logging/logger.ts';
import type { Database } from '../../storage/schema.ts';
import type { SmsMessage, SmsSender } from './sms-sender.ts';

/**
 * Development only (config refuses it in production): the message goes to the log and to the
 * dev outbox (/dev/outbox), where it reads like an email to the phone number.
 */
export class LogSmsSender implements SmsSender {
  readonly kind = 'log';

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    this.logger.info(
      { event: 'sms.dev_outbox', to: message.to, body: message.body },
      'SMS not sent (SMS_PROVIDER=log): see /dev/outbox',
    );
    await this.db
      .insertInto('mail_queue')
      .values({
        id: randomUUID(),
        to_address: message.to,
        template: 'sms',
        locale: 'es',
        data: '{}',
        status: 'sent',
        next_attempt_at: new Date(),
        sent_at: new Date(),
        subject: `SMS: ${message.body}`,
        text_body: message.body,
      })
      .execute();
  }
}
