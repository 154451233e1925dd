import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export const SMTP_USER = 'mailer';
export const SMTP_PASS = 's3cret pass';

export interface SmtpBehaviour {
  /** Answers DATA only once this resolves: a slow server, held for exactly as long as the test needs. */
  answerDataWhen?: Promise<void>;
  /** Reply to the Nth DATA (1-based); undefined accepts. E.g. 451 → temporary, 550 → permanent. */
  dataReply?: (attempt: number) => { code: number; message: string } | undefined;
  /** Rejects this recipient at RCPT TO with 550. */
  rejectRecipient?: string;
}

export interface TestSmtpServer {
  /** smtp://user:pass@127.0.0.1:port */
  url: string;
  /** Accepted messages, parsed, in order. */
  received: ParsedMail[];
  /** DATA commands seen, accepted or not. */
  dataAttempts: number;
  /** Forgets what was received, for the next test on a shared server. */
  forget(): void;
  close(): Promise<void>;
}

/** A real SMTP server on a random loopback port that requires AUTH (plain text: no TLS on loopback). */
export async function startSmtpServer(behaviour: SmtpBehaviour = {}): Promise<TestSmtpServer> {
  const state = { received: [] as ParsedMail[], dataAttempts: 0 };
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    disableReverseLookup: true, // no DNS on loopback: it only slows each connection
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASS) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, callback) {
      if (address.address === behaviour.rejectRecipient) callback(smtpError(550, 'No such mailbox here'));
      else callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        state.dataAttempts += 1;
        const reply = behaviour.dataReply?.(state.dataAttempts);
        void Promise.resolve(behaviour.answerDataWhen).then(() => {
          if (reply) return callback(smtpError(reply.code, reply.message));
          simpleParser(Buffer.concat(chunks)).then(
            (mail) => {
              state.received.push(mail); // only once accepted: "arrived" means the server said 250
              callback();
            },
            (error: Error) => callback(error),
          );
        });
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASS)}@127.0.0.1:${port}`,
    get received() {
      return state.received;
    },
    get dataAttempts() {
      return state.dataAttempts;
    },
    forget() {
      state.received = [];
      state.dataAttempts = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The messages that reached `to` so far, oldest first. */
export function receivedBy(smtp: Pick<TestSmtpServer, 'received'>, to: string): ParsedMail[] {
  const address = to.toLowerCase();
  return smtp.received.filter(
    (mail) => (mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toLowerCase() === address,
  );
}

/** Waits until `count` messages reached `to`; returns them, oldest first, or throws after `ms`. */
export async function waitForMail(
  smtp: Pick<TestSmtpServer, 'received'>,
  to: string,
  count = 1,
  ms = 10_000,
): Promise<ParsedMail[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const mails = receivedBy(smtp, to);
    if (mails.length >= count) return mails;
    if (Date.now() > deadline) throw new Error(`expected ${count} emails to ${to}, got ${mails.length}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
