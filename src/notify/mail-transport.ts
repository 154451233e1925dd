import nodemailer from 'nodemailer';
import type { Logger } from '../logging/logger.ts';

export interface TransportMessage {
  /** The queue row's id: shown in logs instead of anything from the body. */
  id: string;
  template: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Where rendered email goes: an SMTP server, or (development) the dev outbox. */
export interface MailTransport {
  readonly kind: 'smtp' | 'outbox';
  /** The outbox keeps the rendered message in its queue row; SMTP keeps nothing once sent. */
  readonly keepsCopy: boolean;
  send(message: TransportMessage): Promise<void>;
  close(): void;
}

/** nodemailer over SMTP_URL (smtp:// with STARTTLS when offered, or smtps://; credentials in the URL). */
export function smtpTransport(smtpUrl: string): MailTransport {
  const transporter = nodemailer.createTransport({
    url: smtpUrl,
    // Fail an attempt within a minute rather than nodemailer's default minutes; the queue retries later.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    keepsCopy: false,
    async send(message) {
      await transporter.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { 'Auto-Submitted': 'auto-generated' }, // RFC 3834: no vacation auto-replies
      });
    },
    close() {
      transporter.close();
    },
  };
}

/**
 * Development without SMTP_URL: the worker stores the rendered message (see /dev/outbox) and this logs
 * one line pointing there. Never the body or its links: those are secrets, and logs travel far.
 */
export function outboxTransport(issuer: string, logger: Logger): MailTransport {
  return {
    kind: 'outbox',
    keepsCopy: true,
    async send(message) {
      logger.info(
        { to: message.to, template: message.template, outbox: `${issuer}/dev/outbox/${message.id}` },
        'email kept in the dev outbox (no SMTP_URL)',
      );
    },
    close() {},
  };
}
