import Router from '@koa/router';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { AccountAccess } from '../account/account-access.ts';
import type { AccountSignIn } from '../account/account-sign-in.ts';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { ClientService } from '../clients/client-service.ts';
import type { Config } from '../config/config.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import type { Mfa } from '../mfa/mfa.ts';
import type { Database } from '../storage/schema.ts';
import type { UserAdministration } from '../users/user-administration.ts';
import type { WebhookEndpoints } from '../webhooks/webhook-endpoints.ts';
import { auditRouter } from './audit-router.ts';
import { CONSOLE_PREFIX, consoleForms } from './console-forms.ts';
import { consoleKit, SECTIONS } from './console-pages.ts';
import { keysRouter } from './keys-router.ts';
import { OperatorAccess } from './operator-access.ts';
import { OperatorDirectory } from './operators.ts';
import { organizationsRouter } from './organizations-router.ts';
import { portalsRouter } from './portals-router.ts';
import { ShownOnce } from './shown-once.ts';
import { usersRouter } from './users-router.ts';
import { webhooksRouter } from './webhooks-router.ts';

export interface AdminConsoleDependencies {
  config: Pick<Config, 'issuer' | 'secure'>;
  db: Kysely<Database>;
  /** For the clients service (src/clients/client-service.ts): its checks and client cache. */
  provider: Provider;
  pages: PageRenderer;
  logger: Logger;
  /** The account page's session check and sign-in (the built-in account client). */
  access: AccountAccess;
  signIn: AccountSignIn;
  /** Second factors: who may enter. */
  mfa: Pick<Mfa, 'factors'>;
  /** Seals signing keys, and a new secret until it is shown once. */
  secretBox: SecretBox;
  audit: AuditTrail & Pick<AuditLog, 'query'>;
  /** Users' administration (src/users), the Admin API's and the CLI's service too. */
  users: UserAdministration;
  /** Webhook endpoints and their deliveries (src/webhooks). */
  webhooks: WebhookEndpoints;
  now?: () => number;
}

/**
 * The operator console at /admin: server-rendered pages over the same services as the Admin API
 * and the CLI, for operators only (operator-access.ts), with CSRF on every form and every action
 * in the audit log. app.ts mounts `routes()` before the provider.
 */
export function createAdminConsole(deps: AdminConsoleDependencies): { routes(): Middleware } {
  deps.signIn.allowReturnsUnder(CONSOLE_PREFIX);
  const now = deps.now ?? Date.now;
  const access = new OperatorAccess({
    access: deps.access,
    signIn: deps.signIn,
    operators: new OperatorDirectory(deps.db),
    factors: deps.mfa.factors,
    pages: deps.pages,
    audit: deps.audit,
  });
  const kit = consoleKit({
    pages: deps.pages,
    logger: deps.logger,
    audit: deps.audit,
    guard: access.require(),
    fresh: access.requireFresh(),
    sections: SECTIONS,
  });
  const shownOnce = new ShownOnce(deps.secretBox, deps.config.secure);
  const clients = new ClientService({ db: deps.db, provider: deps.provider, audit: deps.audit, now: deps.now });
  // In the order of SECTIONS, the navigation's.
  const routers = [
    portalsRouter(kit, { clients, shownOnce }),
    usersRouter(kit, { users: deps.users }),
    organizationsRouter(kit, { db: deps.db, now }),
    auditRouter(kit, { db: deps.db, audit: deps.audit }),
    webhooksRouter(kit, { endpoints: deps.webhooks, shownOnce }),
    keysRouter(kit, { db: deps.db, secretBox: deps.secretBox, now }),
  ];

  const home = new Router({ prefix: CONSOLE_PREFIX });
  home.get('/', kit.guard, (ctx) => kit.render(ctx, 'home', 'admin-home'));
  // From the second-factor page: sign in again with a passkey or authenticator app.
  home.get('/step-up', async (ctx) => access.stepUp(ctx, (await deps.access.current(ctx))?.user.email));

  const forms = consoleForms({ ...deps.config, pages: deps.pages });
  const all = compose([forms, home.routes(), ...routers.map((r) => r.routes())] as Middleware[]);
  return { routes: () => all };
}
