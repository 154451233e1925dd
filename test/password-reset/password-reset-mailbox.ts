import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** A real SMTP server on loopback that keeps every message it is sent, parsed. */
export async function startMailbox() {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          const to = session.envelope.rcptTo.map((r) => r.address).join(',');
          received.push({
            to,
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : '',
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    to(address: string): ReceivedMail[] {
      return received.filter((m) => m.to.toLowerCase() === address.toLowerCase());
    },
    /** Resolves with the mail to `address` once it holds `count` of them, or rejects after `ms`. */
    async waitFor(address: string, count = 1, ms = 10_000): Promise<ReceivedMail[]> {
      const deadline = Date.now() + ms;
      while (this.to(address).length < count) {
        if (Date.now() > deadline)
          throw new Error(`expected ${count} emails to ${address}, got ${this.to(address).length}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return this.to(address);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type Mailbox = Awaited<ReturnType<typeof startMailbox>>;

/** The reset link in a reset-password email (text part). */
export function resetLinkIn(mail: ReceivedMail): string {
  const match = /(\S+\/password\/reset\?token=[\w-]+)/.exec(mail.text);
  if (!match) throw new Error(`no reset link in: ${mail.text}`);
  return match[1]!;
}
