import type { Kysely } from 'kysely';
import type { SmsConfig } from '../../config/config.ts';
import type { Logger } from '../../logging/logger.ts';
import type { Database } from '../../storage/schema.ts';
import { LogSmsSender } from './log-sms-sender.ts';
import type { SmsSender } from './sms-sender.ts';
import { TwilioSmsSender } from './twilio-sms-sender.ts';

/** The configured SMS provider; undefined when SMS is off (SMS_PROVIDER=none): the factor is then not offered. */
export function createSmsSender(sms: SmsConfig, db: Kysely<Database>, logger: Logger): SmsSender | undefined {
  switch (sms.provider) {
    case 'twilio':
      return new TwilioSmsSender(sms);
    case 'log':
      return new LogSmsSender(db, logger);
    case 'none':
      return undefined;
  }
}
