import { AuditLog } from '../audit/audit-log.ts';
import { createLogger } from '../logging/logger.ts';
import { MailQueue } from '../notify/mail-queue.ts';
import { PasswordResetService } from '../password-reset/password-reset.ts';
import { SessionDirectory } from '../sessions/session-directory.ts';
import { SessionTerminator } from '../sessions/session-terminator.ts';
import { type AdministrativeOrigin, UserAdministrationError } from '../users/admin-user.ts';
import { UserAdministration } from '../users/user-administration.ts';
import { queuedWebhookEvents } from '../webhooks/webhook-event-queue.ts';
import { type CliContext, withCliContext } from './cli-context.ts';
import { CliInputError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { operatorActor } from './operator-audit.ts';

export interface CliUserAdministration {
  users: UserAdministration;
  /** The operator running the command, as every change is audited. */
  origin: AdministrativeOrigin;
  context: CliContext;
}

/**
 * Runs `work` with the users' service over the CLI's database: mail is queued for a running
 * server's worker to send; audit events are written before the command exits; sessions are
 * ended through an oidc-provider built on first need, and the command waits for its back-channel
 * logouts to be delivered. A refusal of the service is the CLI's input error (exit 1): the same
 * message the Admin API gives, and nothing changed.
 */
export async function withUserAdministration<T>(
  env: NodeJS.ProcessEnv,
  io: CliIo,
  work: (admin: CliUserAdministration) => Promise<T>,
): Promise<T> {
  return withCliContext(env, async (context) => {
    const db = context.storage.db;
    const logger = createLogger(context.config.logLevel, { write: (line: string) => void io.stderr.write(line) });
    const audit = new AuditLog({ db, logger, flushIntervalMs: 0 });
    const queue = new MailQueue(db);
    const mailer = { enqueue: async (email: Parameters<MailQueue['add']>[0]) => void (await queue.add(email)) };
    let terminator: SessionTerminator | undefined;
    const users = new UserAdministration({
      config: context.config,
      db,
      logger,
      mailer,
      audit,
      sessions: async () => {
        const provider = await context.provider();
        terminator ??= new SessionTerminator({ provider, db, logger, audit });
        return { terminator, directory: new SessionDirectory({ db, provider }) };
      },
      passwordResets: new PasswordResetService({ config: context.config, db, mailer, logger }),
      webhooks: queuedWebhookEvents(db, logger),
    });
    try {
      return await work({ users, origin: { actor: operatorActor(env), via: 'cli' }, context });
    } catch (error) {
      if (error instanceof UserAdministrationError) throw new CliInputError(error.message);
      throw error;
    } finally {
      await terminator?.settled();
      await audit.close();
    }
  });
}
