import type { Context, Middleware } from 'koa';
import type { Kysely } from 'kysely';
import type { AccountAccess, SignedInAccount } from '../account/account-access.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { MembershipRepository } from '../organizations/memberships.ts';
import { organizationStatus } from '../organizations/organization-status.ts';
import { RoleRepository } from '../organizations/roles.ts';
import type { Database, OrganizationRow } from '../storage/schema.ts';

/** The permission the console asks for (the built-in `admin` role holds it). */
export const MANAGE_PERMISSION = 'org:manage';

/** Who is in the console, and for which of the organizations they manage. */
export interface ConsoleVisit {
  account: SignedInAccount;
  organization: OrganizationRow;
  /** Every organization they manage, for the switcher. */
  organizations: Array<{ slug: string; name: string }>;
  /** `?org=<slug>` for every link and form action of this organization's pages. */
  orgQuery: string;
  now: Date;
}

export function visitOf(ctx: Context): ConsoleVisit {
  return ctx.state['console'] as ConsoleVisit;
}

/**
 * Guards /org: signed in through Umbral's own login (the account page's AccountAccess, so a
 * visitor without a session goes through the hosted login and comes back), and a member, with a
 * role holding `org:manage`, of the organization named by `?org=<slug>` (by default the first of
 * theirs). Anyone else signed in gets a 403 page in their language. Read on every request, never
 * cached: an admin whose role is taken away loses the console at once, on every process.
 */
export class ConsoleAccess {
  private readonly memberships: MembershipRepository;
  private readonly roles: RoleRepository;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      access: AccountAccess;
      pages: PageRenderer;
      now: () => number;
    },
  ) {
    this.memberships = new MembershipRepository(deps.db);
    this.roles = new RoleRepository(deps.db);
  }

  require(): Middleware {
    const signedIn = this.deps.access.require();
    return (ctx, next) =>
      signedIn(ctx, async () => {
        const account = ctx.state['account'] as SignedInAccount;
        const now = new Date(this.deps.now());
        const managed = await this.managedBy(account.user.id, now);
        const asked = typeof ctx.query['org'] === 'string' ? ctx.query['org'] : undefined;
        const organization = asked ? managed.find((org) => org.slug === asked) : managed[0];
        if (!organization) {
          await this.deps.pages.render(ctx, 'org-forbidden', { email: account.user.email }, 403);
          return;
        }
        const visit: ConsoleVisit = {
          account,
          organization,
          organizations: managed.map((org) => ({ slug: org.slug, name: org.name })),
          orgQuery: `?org=${encodeURIComponent(organization.slug)}`,
          now,
        };
        ctx.state['console'] = visit;
        await next();
      });
  }

  /** The organizations (not ended) where one of the person's roles holds org:manage, by name. */
  private async managedBy(userId: string, now: Date): Promise<OrganizationRow[]> {
    const memberships = await this.memberships.ofUser(userId);
    if (!memberships.length) return [];
    const managing = new Set<string>();
    for (const role of await this.roles.list()) {
      if (role.permissions.includes(MANAGE_PERMISSION)) managing.add(role.name);
    }
    return memberships
      .filter((m) => m.roles.some((role) => managing.has(role)))
      .map((m) => m.organization)
      .filter((org) => organizationStatus(org, now) !== 'ended');
  }
}
