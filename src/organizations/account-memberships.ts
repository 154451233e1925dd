import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { MembershipRepository } from './memberships.ts';
import { organizationStatus } from './organization-status.ts';
import { ADMIN_ROLE, MEMBER_ROLE } from './roles.ts';

/** One of the person's organizations as the account page shows it (AccountOrganizations in src/account). */
export interface AccountOrganizationView {
  name: string;
  status: 'active' | 'scheduled' | 'suspended';
  /** When the contract starts: what a scheduled organization's line says. */
  activatesAt: Date;
  /** A built-in role has a message key for its translated label; an operator's role is shown by its name. */
  roles: Array<{ name: string; labelKey?: string | undefined }>;
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

  constructor(
    db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {
    this.memberships = new MembershipRepository(db);
  }

  async of(userId: string): Promise<AccountOrganizationView[]> {
    const at = new Date(this.now());
    const listed: AccountOrganizationView[] = [];
    for (const { organization, roles } of await this.memberships.ofUser(userId)) {
      const status = organizationStatus(organization, at);
      if (status === 'ended') continue;
      listed.push({
        name: organization.name,
        status,
        activatesAt: new Date(organization.activates_at),
        roles: roles.map((name) => ({ name, labelKey: BUILT_IN_LABELS[name] })),
      });
    }
    return listed;
  }
}
