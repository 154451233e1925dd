import type { Kysely } from 'kysely';
import type { Database, OrganizationInvitationRow, OrganizationRow } from '../storage/schema.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import { DEFAULT_INVITATION_TTL_MS, InvitationRepository } from './invitations.ts';
import { jsonArray } from './json-array.ts';
import { MembershipRepository } from './memberships.ts';
import { OrganizationInputError } from './organization-errors.ts';
import type { OrganizationMail } from './organization-mail.ts';
import type { OrganizationSessions } from './organization-sessions.ts';
import { organizationStatus } from './organization-status.ts';
import { ADMIN_ROLE, MEMBER_ROLE, RoleRepository } from './roles.ts';

/** At most this many addresses in one batch of invitations (pasted or uploaded). */
export const MAX_BATCH_INVITATIONS = 500;

/** Why an address of a batch was not invited: a code the console translates. */
export type BatchRefusal = 'malformed' | 'duplicate' | 'no_seat' | 'unavailable';

export interface BatchOutcome {
  invited: Array<{ email: string; invitationId: string }>;
  /** Already members: nothing to do. */
  members: string[];
  refused: Array<{ email: string; reason: BatchRefusal }>;
}

/**
 * What an operator (the CLI) and a company's admins (the console at /org) do to an organization's
 * people: invite one or many, resend and revoke invitations, change roles, exclude and include
 * members again. One code path for both, over the repositories (which hold the rules: seats, the
 * last admin, one pending invitation per address) and the organization's mail and portal sessions.
 * Callers record who did it (the audit log); nothing here is cached, so every process sees each
 * change at once.
 */
export class MemberAdministration {
  private readonly memberships: MembershipRepository;
  private readonly invitations: InvitationRepository;
  private readonly roles: RoleRepository;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      mail: OrganizationMail;
      sessions: OrganizationSessions;
      now?: (() => number) | undefined;
      /** Where members joining and leaving are announced (src/webhooks), in their transactions. */
      webhooks?: WebhookEvents | undefined;
    },
  ) {
    this.now = deps.now ?? Date.now;
    this.memberships = new MembershipRepository(deps.db, deps.webhooks);
    this.invitations = new InvitationRepository(deps.db, this.now, undefined, deps.webhooks);
    this.roles = new RoleRepository(deps.db);
  }

  /**
   * Invites someone (default role `member`), mailed at once while the company is active; a
   * scheduled company's invitation waits for the activation. Suspended and ended companies take
   * none. Refused (OrganizationInputError with its reason) for a member, beyond the seat limit,
   * for a malformed address or an unknown role.
   */
  async invite(
    organization: OrganizationRow,
    input: { email: string; roles: string[]; invitedBy: string | null; linkTtlMs?: number | undefined },
  ): Promise<{ invitation: OrganizationInvitationRow; mailed: boolean }> {
    this.assertTakesInvitations(organization);
    const roles = await this.roles.assertExist(input.roles.length ? input.roles : [MEMBER_ROLE]);
    return this.send(organization, { ...input, roles });
  }

  /**
   * Invites each address of a batch with the same roles: malformed ones and repeats are refused
   * before anything is written, current members are set aside, and the others are invited in
   * order until the seats run out.
   */
  async inviteMany(
    organization: OrganizationRow,
    input: { emails: string[]; roles: string[]; invitedBy: string | null },
  ): Promise<BatchOutcome> {
    if (input.emails.length > MAX_BATCH_INVITATIONS) {
      throw new OrganizationInputError(`at most ${MAX_BATCH_INVITATIONS} addresses at once`, 'too_many');
    }
    this.assertTakesInvitations(organization);
    const roles = await this.roles.assertExist(input.roles.length ? input.roles : [MEMBER_ROLE]);
    const outcome: BatchOutcome = { invited: [], members: [], refused: [] };
    const seen = new Set<string>();
    for (const typed of input.emails) {
      const email = normalizeEmail(typed);
      const key = email.toLowerCase();
      if (!isValidEmail(email)) outcome.refused.push({ email: typed.trim(), reason: 'malformed' });
      else if (seen.has(key)) outcome.refused.push({ email, reason: 'duplicate' });
      else {
        seen.add(key);
        try {
          const { invitation } = await this.send(organization, { email, roles, invitedBy: input.invitedBy });
          outcome.invited.push({ email, invitationId: invitation.id });
        } catch (error) {
          if (!(error instanceof OrganizationInputError)) throw error;
          if (error.reason === 'already_member') outcome.members.push(email);
          else outcome.refused.push({ email, reason: error.reason === 'no_seat' ? 'no_seat' : 'unavailable' });
        }
      }
    }
    return outcome;
  }

  /** A pending invitation of this organization (expired ones included: they can be sent again). */
  async pendingInvitation(organizationId: string, invitationId: string) {
    return this.deps.db
      .selectFrom('organization_invitations')
      .selectAll()
      .where('id', '=', invitationId)
      .where('organization_id', '=', organizationId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
  }

  /** A new link, valid 7 days from now, mailed again; the older link stops working. */
  async resend(organization: OrganizationRow, invitationId: string): Promise<OrganizationInvitationRow> {
    const row = await this.pendingInvitation(organization.id, invitationId);
    if (!row) throw new OrganizationInputError('no such pending invitation', 'no_invitation');
    const { invitation } = await this.invite(organization, {
      email: row.email,
      roles: jsonArray(row.roles),
      invitedBy: row.invited_by,
    });
    return invitation;
  }

  /** Revokes the address's pending invitation; false when there was none. */
  async revoke(organizationId: string, email: string): Promise<boolean> {
    return this.invitations.revoke(organizationId, email);
  }

  /** Replaces a member's roles (known ones, at least one); the last admin keeps the admin role. */
  async setRoles(organization: OrganizationRow, userId: string, roles: string[]): Promise<string[]> {
    if (!roles.length) throw new OrganizationInputError('a member holds at least one role', 'no_roles');
    const known = await this.roles.assertExist(roles);
    await this.memberships.setRoles(organization.id, userId, known, new Date(this.now()));
    return known;
  }

  /** Designates the member an admin, or takes the role away (a member without roles keeps `member`). */
  async setAdmin(organization: OrganizationRow, userId: string, admin: boolean): Promise<string[]> {
    const current = await this.memberships.membership(organization.id, userId);
    if (!current) throw new OrganizationInputError('that person is not a member of this organization', 'not_member');
    const others = current.roles.filter((role) => role !== ADMIN_ROLE);
    return this.setRoles(
      organization,
      userId,
      admin ? [...others, ADMIN_ROLE] : others.length ? others : [MEMBER_ROLE],
    );
  }

  /**
   * Ends the membership (never the last admin's of an active company) and the person's sessions
   * at the portals that require or use an organization, which hear it by back-channel logout and
   * whose grants (tokens with the organization's claims) are revoked. Returns how many ended.
   */
  async exclude(organization: OrganizationRow, userId: string): Promise<number> {
    await this.memberships.remove(organization.id, userId, new Date(this.now()));
    const logouts = await this.deps.sessions.takeOut(this.deps.db, { userIds: [userId] }, 'required-or-optional');
    this.deps.sessions.deliver(logouts);
    return logouts.length;
  }

  /** Brings an excluded member back with the roles they had, if a seat is free. */
  async include(organization: OrganizationRow, userId: string): Promise<string[]> {
    return this.deps.db.transaction().execute(async (trx) => {
      const org = await trx
        .selectFrom('organizations')
        .selectAll()
        .where('id', '=', organization.id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const row = await trx
        .selectFrom('organization_memberships')
        .select(['roles', 'removed_at'])
        .where('organization_id', '=', org.id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!row?.removed_at) throw new OrganizationInputError('that person is not an excluded member', 'not_excluded');
      if (org.seat_limit !== null && (await this.memberships.seatsTaken(org.id, trx)) >= org.seat_limit) {
        throw new OrganizationInputError(`${org.name} has no free seat`, 'no_seat');
      }
      const roles = jsonArray(row.roles);
      await this.memberships.join({ organizationId: org.id, userId, roles, invitedBy: null }, trx);
      return roles;
    });
  }

  /** `roles` already checked. */
  private send(
    organization: OrganizationRow,
    input: { email: string; roles: string[]; invitedBy: string | null; linkTtlMs?: number | undefined },
  ) {
    return this.deps.mail.invite(this.deps.db, organization, {
      email: input.email,
      roles: input.roles,
      invitedBy: input.invitedBy,
      linkTtlMs: input.linkTtlMs ?? DEFAULT_INVITATION_TTL_MS,
    });
  }

  private assertTakesInvitations(organization: OrganizationRow): void {
    const status = organizationStatus(organization, new Date(this.now()));
    if (status === 'suspended' || status === 'ended') {
      throw new OrganizationInputError(`${organization.slug} is ${status}: it takes no invitations`, `org_${status}`);
    }
  }
}
