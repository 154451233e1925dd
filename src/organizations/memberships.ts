import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, OrganizationRow } from '../storage/schema.ts';
import { NO_WEBHOOK_EVENTS, type WebhookEvents } from '../webhooks/webhook-events.ts';
import { jsonArray } from './json-array.ts';
import { OrganizationInputError } from './organization-errors.ts';
import { organizationStatus } from './organization-status.ts';
import { ADMIN_ROLE } from './roles.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface Member {
  userId: string;
  email: string;
  name: string | null;
  roles: string[];
  joinedAt: Date;
  invitedBy: string | null;
}

/** One of a person's organizations, with their roles in it. */
export interface UserMembership {
  organization: OrganizationRow;
  roles: string[];
  joinedAt: Date;
}

/** Who belongs to which organization, with which roles. Removed members stay as history. */
export class MembershipRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** Where joins and removals are announced (org.member_added, org.member_removed), in their transaction. */
    private readonly webhooks: WebhookEvents = NO_WEBHOOK_EVENTS,
  ) {}

  /**
   * Adds the person (or brings a removed member back) with these roles; an existing member keeps
   * theirs and gains these. `db` may be a transaction, so an invitation is accepted atomically.
   */
  async join(
    input: { organizationId: string; userId: string; roles: string[]; invitedBy: string | null },
    db: Db = this.db,
  ): Promise<void> {
    const roles = JSON.stringify([...new Set(input.roles)].sort());
    const wasMember = (await this.membership(input.organizationId, input.userId, db)) !== undefined;
    await db
      .insertInto('organization_memberships')
      .values({
        organization_id: input.organizationId,
        user_id: input.userId,
        roles,
        invited_by: input.invitedBy,
      })
      .onConflict((oc) =>
        oc.columns(['organization_id', 'user_id']).doUpdateSet({
          // A removed member starts over with the new roles; a current one keeps theirs and gains these.
          roles: sql`case when organization_memberships.removed_at is null
                     then (select coalesce(jsonb_agg(distinct r order by r), '[]'::jsonb)
                             from jsonb_array_elements_text(organization_memberships.roles || excluded.roles) as r)
                     else excluded.roles end`,
          joined_at: sql`case when organization_memberships.removed_at is null
                         then organization_memberships.joined_at else now() end`,
          invited_by: sql`case when organization_memberships.removed_at is null
                          then organization_memberships.invited_by else excluded.invited_by end`,
          removed_at: null,
        }),
      )
      .execute();
    if (!wasMember) {
      await this.webhooks.emit(
        'org.member_added',
        { organization_id: input.organizationId, user_id: input.userId, roles: JSON.parse(roles) as string[] },
        db,
      );
    }
  }

  async membership(organizationId: string, userId: string, db: Db = this.db): Promise<{ roles: string[] } | undefined> {
    const row = await db
      .selectFrom('organization_memberships')
      .select('roles')
      .where('organization_id', '=', organizationId)
      .where('user_id', '=', userId)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    return row ? { roles: jsonArray(row.roles) } : undefined;
  }

  /** Current members, by email. */
  async members(organizationId: string): Promise<Member[]> {
    const rows = await this.db
      .selectFrom('organization_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.user_id', 'u.email', 'u.name', 'm.roles', 'm.joined_at', 'm.invited_by'])
      .where('m.organization_id', '=', organizationId)
      .where('m.removed_at', 'is', null)
      .orderBy('u.email')
      .execute();
    return rows.map((row) => ({
      userId: row.user_id,
      email: row.email,
      name: row.name,
      roles: jsonArray(row.roles),
      joinedAt: row.joined_at,
      invitedBy: row.invited_by,
    }));
  }

  /** The person's current memberships, whatever their organizations' status. */
  async ofUser(userId: string): Promise<UserMembership[]> {
    const rows = await this.db
      .selectFrom('organization_memberships as m')
      .innerJoin('organizations as o', 'o.id', 'm.organization_id')
      .selectAll('o')
      .select(['m.roles as member_roles', 'm.joined_at as member_joined_at'])
      .where('m.user_id', '=', userId)
      .where('m.removed_at', 'is', null)
      .orderBy('o.name')
      .execute();
    return rows.map(({ member_roles, member_joined_at, ...organization }) => ({
      organization,
      roles: jsonArray(member_roles),
      joinedAt: member_joined_at,
    }));
  }

  /** Only the organizations that are active now: what a sign-in may choose from. */
  async activeOfUser(userId: string, now: Date): Promise<UserMembership[]> {
    return (await this.ofUser(userId)).filter((m) => organizationStatus(m.organization, now) === 'active');
  }

  /** Seats in use: current members plus pending, unexpired invitations of people not yet members. */
  async seatsTaken(organizationId: string, db: Db = this.db): Promise<number> {
    const members = await db
      .selectFrom('organization_memberships')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('organization_id', '=', organizationId)
      .where('removed_at', 'is', null)
      .executeTakeFirstOrThrow();
    const invited = await db
      .selectFrom('organization_invitations as i')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('i.organization_id', '=', organizationId)
      .where('i.status', '=', 'pending')
      .where('i.expires_at', '>', sql<Date>`now()`)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('organization_memberships as m')
              .innerJoin('users as u', 'u.id', 'm.user_id')
              .select('m.user_id')
              .whereRef('m.organization_id', '=', 'i.organization_id')
              .where('m.removed_at', 'is', null)
              .where(sql<boolean>`lower(u.email) = lower(i.email)`),
          ),
        ),
      )
      .executeTakeFirstOrThrow();
    return Number(members.n) + Number(invited.n);
  }

  /**
   * Replaces a member's roles. An active organization keeps at least one admin member: taking
   * the last one's admin role is refused (pending invitations do not count).
   */
  async setRoles(organizationId: string, userId: string, roles: string[], now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const org = await this.lockOrganization(trx, organizationId);
      const current = await this.membership(organizationId, userId, trx);
      if (!current) throw new OrganizationInputError('that person is not a member of this organization', 'not_member');
      if (current.roles.includes(ADMIN_ROLE) && !roles.includes(ADMIN_ROLE)) {
        await this.assertNotLastAdmin(trx, org, userId, now);
      }
      await trx
        .updateTable('organization_memberships')
        .set({ roles: JSON.stringify([...new Set(roles)].sort()) })
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .execute();
    });
  }

  /** Ends a membership; the last admin member of an active organization cannot be removed. */
  async remove(organizationId: string, userId: string, now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const org = await this.lockOrganization(trx, organizationId);
      const current = await this.membership(organizationId, userId, trx);
      if (!current) throw new OrganizationInputError('that person is not a member of this organization', 'not_member');
      if (current.roles.includes(ADMIN_ROLE)) await this.assertNotLastAdmin(trx, org, userId, now);
      await trx
        .updateTable('organization_memberships')
        .set({ removed_at: sql<Date>`now()` })
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .execute();
      await this.webhooks.emit('org.member_removed', { organization_id: organizationId, user_id: userId }, trx);
    });
  }

  /** Serialises role changes and removals of one organization, so two can't each remove "another" admin. */
  private async lockOrganization(trx: Transaction<Database>, organizationId: string): Promise<OrganizationRow> {
    const org = await trx
      .selectFrom('organizations')
      .selectAll()
      .where('id', '=', organizationId)
      .forUpdate()
      .executeTakeFirst();
    if (!org) throw new OrganizationInputError('no such organization');
    return org;
  }

  /** `org` is the row lockOrganization returned, locked for this transaction. */
  private async assertNotLastAdmin(trx: Transaction<Database>, org: OrganizationRow, userId: string, now: Date) {
    if (organizationStatus(org, now) !== 'active') return;
    const others = await trx
      .selectFrom('organization_memberships')
      .select('user_id')
      .where('organization_id', '=', org.id)
      .where('user_id', '!=', userId)
      .where('removed_at', 'is', null)
      .where(sql<boolean>`roles @> ${JSON.stringify([ADMIN_ROLE])}::jsonb`)
      .executeTakeFirst();
    if (!others) {
      throw new OrganizationInputError(
        'this is the last admin of an active organization: make another member admin first (pending invitations do not count)',
        'last_admin',
      );
    }
  }
}
