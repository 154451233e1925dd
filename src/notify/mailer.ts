import type { Locale } from '../i18n/i18n.ts';

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
