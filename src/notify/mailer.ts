import type { Locale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';

/**
 * A transactional email to send. `template` names views/emails/<template>.html.ejs and
 * <template>.txt.ejs; the subject is the message `email.<template>.subject` in `locale`.
 * `data` holds the template's values (links must already be absolute, built from ISSUER).
 */
export interface OutgoingEmail {
  to: string;
  template: string;
  locale: Locale;
  data: Record<string, string | number | boolean | undefined>;
}

/** Queues email for delivery: returns once the message is stored, never waits on SMTP. */
export interface Mailer {
  enqueue(email: OutgoingEmail): Promise<void>;
}

/**
 * Queues a notice whose failure must not change the page (a notification, or a mail whose
 * sending must not reveal anything): a mail that cannot be queued is logged, not thrown.
 */
export async function enqueueQuietly(mailer: Mailer, logger: Logger, email: OutgoingEmail): Promise<void> {
  try {
    await mailer.enqueue(email);
  } catch (error) {
    logger.error({ err: error, template: email.template }, 'could not queue email');
  }
}
