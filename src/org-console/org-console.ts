import type Koa from 'koa';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { AccountAccess } from '../account/account-access.ts';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import { MemberAdministration } from '../organizations/member-administration.ts';
import { OrganizationMail } from '../organizations/organization-mail.ts';
import { OrganizationSessions } from '../organizations/organization-sessions.ts';
import { OrganizationRepository } from '../organizations/organizations.ts';
import { RoleRepository } from '../organizations/roles.ts';
import { WeeklySummaryPreferences } from '../organizations/weekly-summary-preferences.ts';
import type { Database } from '../storage/schema.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import { companyRouter } from './company-router.ts';
import { ConsoleAccess } from './console-access.ts';
import { consoleForms } from './console-forms.ts';
import { ConsolePages } from './console-pages.ts';
import { InvitationBatches } from './invitation-batches.ts';
import { invitationsRouter } from './invitations-router.ts';
import { type LastSignIns, MemberList } from './member-list.ts';
import { membersRouter } from './members-router.ts';
import { metricsRouter } from './metrics-router.ts';

export { ORG_CONSOLE_PATH } from './console-forms.ts';

export interface OrgConsoleDependencies {
  config: Config;
  db: Kysely<Database>;
  provider: Provider;
  pages: PageRenderer;
  logger: Logger;
  /** The account page's access check: the console signs people in through it (src/account). */
  access: AccountAccess;
  audit: AuditTrail;
  /** Invitations are queued with their change; this sends them at once. */
  mailer: { wake(): void };
  /** Insights' record of sign-ins (src/organizations/sign-in-events.ts). */
  signIns: LastSignIns;
  now?: (() => number) | undefined;
  /** Where members joining and leaving are announced (src/webhooks). */
  webhooks?: WebhookEvents | undefined;
}

/**
 * The company admins' console at /org, mounted on `app`: collaborators, invitations, metrics and
 * the company's data, for members holding a role with `org:manage`. Its sessions end through the
 * organization's portals like the CLI's (src/organizations/member-administration.ts).
 */
export function mountOrgConsole(app: Koa, deps: OrgConsoleDependencies): void {
  const { config, db, logger } = deps;
  const now = deps.now ?? Date.now;
  const access = new ConsoleAccess({ db, access: deps.access, pages: deps.pages, now });
  const pages = new ConsolePages(deps.pages, deps.audit, deps.mailer);
  const roles = new RoleRepository(db);
  const admin = new MemberAdministration({
    db,
    mail: new OrganizationMail({ issuer: config.issuer, productName: config.productName, now }),
    sessions: new OrganizationSessions({ provider: async () => deps.provider, logger }),
    now,
    webhooks: deps.webhooks,
  });
  app.use(consoleForms({ issuer: config.issuer, secure: config.secure, pages: deps.pages }));
  app.use(membersRouter({ access, pages, members: new MemberList(db, deps.signIns), roles, admin }).routes());
  app.use(invitationsRouter({ db, access, pages, roles, admin, batches: new InvitationBatches(db) }).routes());
  const summaries = new WeeklySummaryPreferences(db);
  app.use(metricsRouter({ db, access, pages, signIns: deps.signIns, summaries }).routes());
  app.use(companyRouter({ config, access, pages, orgs: new OrganizationRepository(db) }).routes());
}
