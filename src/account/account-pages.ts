import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { Mailer } from '../notify/mailer.ts';
import { SessionDirectory } from '../sessions/session-directory.ts';
import type { SessionTerminator } from '../sessions/session-terminator.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import { AccountAccess } from './account-access.ts';
import { accountForms } from './account-forms.ts';
import { type AccountRouterDependencies, accountRouter } from './account-router.ts';
import { EmailChange } from './email-change.ts';
import { emailChangeRouter } from './email-change-router.ts';
import { passwordChangeRouter } from './password-change-router.ts';
import { sessionsRouter } from './sessions-router.ts';

export interface AccountPagesDependencies extends Omit<AccountRouterDependencies, 'access'> {
  provider: Provider;
  throttle: LoginThrottle;
  terminator: SessionTerminator;
  mailer: Mailer;
  /** The audit log: password and email changes. */
  audit?: AuditTrail;
  /** Webhook events: email changes. */
  webhooks?: WebhookEvents | undefined;
}

/**
 * The account's own pages, mounted on `app`: /account (profile, the person's companies, the
 * sections other capabilities add), its password, email and sessions. Returns the access check
 * those capabilities' pages use too (/account/security, /account/identities).
 */
export function mountAccountPages(app: Koa, deps: AccountPagesDependencies): AccountAccess {
  const { config, db, pages, provider, terminator, mailer, logger } = deps;
  const access = new AccountAccess({ provider, db, signIn: deps.signIn, pages });
  app.use(accountForms({ issuer: config.issuer, secure: config.secure }));
  app.use(accountRouter({ ...deps, access }).routes());
  app.use(
    passwordChangeRouter({
      config,
      db,
      pages,
      access,
      throttle: deps.throttle,
      terminator,
      mailer,
      logger,
      audit: deps.audit,
    }).routes(),
  );
  app.use(
    emailChangeRouter({
      pages,
      access,
      emailChange: new EmailChange({ config, db, mailer, logger, audit: deps.audit, webhooks: deps.webhooks }),
      secure: config.secure,
    }).routes(),
  );
  app.use(sessionsRouter({ pages, access, directory: new SessionDirectory({ db, provider }), terminator }).routes());
  return access;
}
