import type { Context } from 'koa';
import { type AuditTrail, originOf } from '../audit/audit-event.ts';
import { brandPageForOrganization } from '../http/page-branding.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Locale, Translate } from '../i18n/i18n.ts';
import { OrganizationInputError } from '../organizations/organization-errors.ts';
import { organizationStatus } from '../organizations/organization-status.ts';
import { ADMIN_ROLE, MEMBER_ROLE, type Role } from '../organizations/roles.ts';
import { type ConsoleVisit, visitOf } from './console-access.ts';

/** The console's sections, in the navigation's order. */
const SECTIONS = [
  { key: 'members', path: '/org' },
  { key: 'invitations', path: '/org/invitations' },
  { key: 'metrics', path: '/org/metrics' },
  { key: 'company', path: '/org/company' },
] as const;
export type ConsoleSection = (typeof SECTIONS)[number]['key'];

/** Refusal codes of src/organizations the console has words for; anything else reads as `other`. */
const REFUSALS = new Set([
  'malformed',
  'already_member',
  'no_seat',
  'not_member',
  'last_admin',
  'no_roles',
  'not_excluded',
  'no_invitation',
  'org_suspended',
  'org_ended',
  'too_many',
  'unknown_role',
]);

/** What a 303 after a change tells the page it lands on (`?done=`). */
const DONE = new Set([
  'invited',
  'resent',
  'revoked',
  'roles_saved',
  'excluded',
  'included',
  'company_saved',
  'summary_on',
  'summary_off',
]);

export function refusalKey(error: unknown): string {
  if (!(error instanceof OrganizationInputError)) throw error;
  return `org_console.refusal.${error.reason && REFUSALS.has(error.reason) ? error.reason : 'other'}`;
}

/** A built-in role in the reader's language; an operator's role by its name. */
export function roleLabel(t: Translate, role: string): string {
  return role === ADMIN_ROLE || role === MEMBER_ROLE ? t(`organizations.account.role.${role}`) : role;
}

export function roleOptions(t: Translate, roles: Role[]) {
  return roles.map((role) => ({
    name: role.name,
    label: roleLabel(t, role.name),
    description: role.builtIn ? undefined : (role.description ?? undefined),
  }));
}

/** A date as the console lists it: "1 dic 2026, 15:04 UTC". */
export function shortInstant(at: Date, locale: Locale): string {
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(at)} UTC`;
}

/**
 * Renders a console page with what every one of them shows: the organization, the switcher
 * between the organizations the admin manages, and the sections. Records the admin's changes.
 */
export class ConsolePages {
  constructor(
    private readonly pages: PageRenderer,
    private readonly audit: AuditTrail,
    private readonly mailer: { wake(): void },
  ) {}

  localeOf(ctx: Context): Locale {
    return this.pages.localeOf(ctx);
  }

  async render(
    ctx: Context,
    section: ConsoleSection,
    view: string,
    locals: Record<string, unknown>,
    status = 200,
  ): Promise<void> {
    const visit = visitOf(ctx);
    // The company's own pages: its home portal's branding, with its logo.
    brandPageForOrganization(ctx, visit.organization);
    await this.pages.render(
      ctx,
      view,
      {
        wide: true,
        visit,
        orgStatus: organizationStatus(visit.organization, visit.now),
        section,
        sections: SECTIONS.map((s) => ({ ...s, href: `${s.path}${visit.orgQuery}`, current: s.key === section })),
        switchTo: visit.organizations.map((org) => ({
          ...org,
          current: org.slug === visit.organization.slug,
          href: `${ctx.path}?org=${encodeURIComponent(org.slug)}`,
        })),
        done: typeof ctx.query['done'] === 'string' && DONE.has(ctx.query['done']) ? ctx.query['done'] : undefined,
        ...locals,
      },
      status,
    );
  }

  /**
   * One change an admin made, with them as actor, the organization and its target. Mail it queued
   * (an invitation) goes out now.
   */
  record(ctx: Context, type: string, change: { subjectUserId?: string; data?: Record<string, unknown> } = {}) {
    this.mailer.wake();
    const visit: ConsoleVisit = visitOf(ctx);
    this.audit.record({
      type: `org_console.${type}`,
      actor: { kind: 'user', id: visit.account.user.id },
      organizationId: visit.organization.id,
      subjectUserId: change.subjectUserId,
      data: change.data ?? {},
      ...originOf(ctx),
    });
  }
}
