import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { MembershipRepository } from './memberships.ts';
import { organizationStatus } from './organization-status.ts';
import { ADMIN_ROLE, MEMBER_ROLE, RoleRepository } from './roles.ts';

/** One of the person's organizations as the account page shows it (AccountOrganizations in src/account). */
export interface AccountOrganizationView {
  name: string;
  status: 'active' | 'scheduled' | 'suspended';
  /** When the contract starts: what a scheduled organization's line says. */
  activatesAt: Date;
  /** A built-in role has a message key for its translated label; an operator's role is shown by its name. */
  roles: Array<{ name: string; labelKey?: string | undefined }>;
  /** Set when one of the person's roles holds org:manage: the company console's page for it. */
  consoleHref?: string | undefined;
}

/** The built-in roles' labels, in views/locales/<locale>/organizations-account.json. */
const BUILT_IN_LABELS: Record<string, string> = {
  [ADMIN_ROLE]: 'organizations.account.role.admin',
  [MEMBER_ROLE]: 'organizations.account.role.member',
};

/**
 * The account page's list of the person's organizations and roles. Active, scheduled and
 * suspended ones are listed, the last two with their status: a scheduled company is one the
 * person will sign in to soon, and a suspended one explains why its portal turns them away now
 * (the hold may be lifted). Ended contracts are not listed: nothing can be done there any more.
 */
export class AccountMemberships {
  private readonly memberships: MembershipRepository;
  private readonly roles: RoleRepository;

  constructor(
    db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {
    this.memberships = new MembershipRepository(db);
    this.roles = new RoleRepository(db);
  }

  async of(userId: string): Promise<AccountOrganizationView[]> {
    const at = new Date(this.now());
    const listed: AccountOrganizationView[] = [];
    const memberships = await this.memberships.ofUser(userId);
    const managing = new Set(
      memberships.length
        ? (await this.roles.list()).filter((role) => role.permissions.includes('org:manage')).map((role) => role.name)
        : [],
    );
    for (const { organization, roles } of memberships) {
      const status = organizationStatus(organization, at);
      if (status === 'ended') continue;
      listed.push({
        name: organization.name,
        status,
        activatesAt: new Date(organization.activates_at),
        roles: roles.map((name) => ({ name, labelKey: BUILT_IN_LABELS[name] })),
        consoleHref: roles.some((role) => managing.has(role))
          ? `/org?org=${encodeURIComponent(organization.slug)}`
          : undefined,
      });
    }
    return listed;
  }
}
