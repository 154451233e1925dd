import type nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
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

/**
 * nodemailer over SMTP_URL (smtp:// with STARTTLS when offered, or smtps://; credentials in the URL).
 * nodemailer loads on the first send: it costs a few MB of RSS that a node which sends no email
 * (most of the time, most nodes) never needs. Config has checked SMTP_URL at start.
 */
export function smtpTransport(smtpUrl: string): MailTransport {
  let transporter: Promise<Transporter> | undefined;
  const connect = () => {
    transporter ??= import('nodemailer').then(({ default: mailer }) =>
      mailer.createTransport({
        url: smtpUrl,
        // Fail an attempt within a minute rather than nodemailer's default minutes; the queue retries later.
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 60_000,
      } as Parameters<typeof nodemailer.createTransport>[0]),
    );
    return transporter;
  };
  return {
    kind: 'smtp',
    keepsCopy: false,
    async send(message) {
      await (await connect()).sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { 'Auto-Submitted': 'auto-generated' }, // RFC 3834: no vacation auto-replies
      });
    },
    close() {
      void transporter?.then((t) => t.close());
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
