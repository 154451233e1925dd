import { AuditLog } from '../audit/audit-log.ts';
import { DEFAULT_LOCALE, preferredLocale } from '../i18n/i18n.ts';
import { createLogger } from '../logging/logger.ts';
import { FactorRepository } from '../mfa/factor-repository.ts';
import { MfaNotifications } from '../mfa/mfa-notifications.ts';
import { RecoveryCodes } from '../mfa/recovery-codes.ts';
import { RememberedDevices } from '../mfa/remembered-devices.ts';
import { MailQueue } from '../notify/mail-queue.ts';
import { UserRepository } from '../users/users.ts';
import { withCliContext } from './cli-context.ts';
import { CliInputError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { operatorActor } from './operator-audit.ts';
import { printJson } from './print.ts';

export const RESET_MFA_OPTIONS = { email: { type: 'string', required: true } } as const;

/**
 * `umbral users reset-mfa --email E`: for a person who lost every factor and their recovery
 * codes. Removes their factors, recovery codes and remembered devices, so their next sign-in asks
 * only the password (or enrollment, for portals that require MFA), and emails them about it.
 */
export async function resetMfa(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('users reset-mfa', args, RESET_MFA_OPTIONS);
  await withCliContext(env, async ({ config, storage }) => {
    const db = storage.db;
    const user = await new UserRepository(db).findByEmail(options.email);
    if (!user) throw new CliInputError(`no user with email ${options.email}`);
    const factors = await new FactorRepository(db).removeAll(user.id);
    await new RecoveryCodes(db).removeAll(user.id);
    await new RememberedDevices(db, config.secure).forgetAll(user.id);
    // Queued here; a running server's mail worker sends it (the CLI does not wait for SMTP).
    const queue = new MailQueue(db);
    const logger = createLogger('silent');
    const audit = new AuditLog({ db, logger, flushIntervalMs: 0 });
    const notifications = new MfaNotifications({
      mailer: { enqueue: async (email) => void (await queue.add(email)) },
      issuer: config.issuer,
      logger,
      audit,
    });
    const locale = preferredLocale(user.locale, DEFAULT_LOCALE);
    await notifications.factorChanged(user, 'reset', locale, undefined, { actor: operatorActor(env) });
    await audit.close();
    printJson(io, { email: user.email, factors_removed: factors });
  });
}
