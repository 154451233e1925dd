import type Koa from 'koa';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Config } from '../config/config.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import type { QueuedMailer } from '../notify/create-mailer.ts';
import { PasswordResetService } from '../password-reset/password-reset.ts';
import { passwordResetRouter } from '../password-reset/password-reset-router.ts';
import type { SessionTerminator } from '../sessions/session-terminator.ts';
import type { Database } from '../storage/schema.ts';
import { AccountLockout } from '../throttling/account-lockout.ts';
import { UnlockLinks } from '../throttling/unlock-links.ts';
import { unlockRouter } from '../throttling/unlock-router.ts';

/**
 * The ways back into an account, both reached from emailed links: /unlock lifts the hard cap on
 * consecutive wrong passwords, and the password reset pages set a new password, ending the
 * account's other sessions. Returns the lockout (the password step counts into it) and the reset
 * service (the forgot-password step and the operators' users service start resets).
 */
export function mountRecoveryPages(
  app: Koa,
  deps: {
    config: Config;
    db: Kysely<Database>;
    pages: PageRenderer;
    mailer: QueuedMailer;
    logger: Logger;
    audit: AuditLog;
    terminator: SessionTerminator;
  },
): { lockout: AccountLockout; resets: PasswordResetService } {
  const { config, db, pages, mailer, logger, audit, terminator } = deps;
  const links = new UnlockLinks({ db, mailer, logger, issuer: config.issuer });
  const lockout = new AccountLockout({ db, links, logger });
  app.use(unlockRouter({ issuer: config.issuer, secure: config.secure, pages, links, lockout }).routes());
  const resets = new PasswordResetService({
    config,
    db,
    mailer,
    logger,
    lockout,
    audit,
    endSessions: (accountId) => terminator.endOthers(accountId, undefined, 'password_changed'),
  });
  app.use(passwordResetRouter({ config, pages, resets }).routes());
  return { lockout, resets };
}
