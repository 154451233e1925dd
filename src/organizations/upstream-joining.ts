import { type Kysely, sql, type Transaction } from 'kysely';
import type { UpstreamSignIn, UpstreamSignInListener } from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database, OrganizationRow } from '../storage/schema.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import { jsonArray } from './json-array.ts';
import { MembershipRepository } from './memberships.ts';
import { organizationStatus } from './organization-status.ts';
import { OrganizationRepository } from './organizations.ts';
import { MEMBER_ROLE } from './roles.ts';

/** What a sign-in from a tenant did to the person's memberships, and why (for tests and logs). */
export type UpstreamJoinResult =
  /** Now a member of the organization bound to the tenant, as `member`. */
  | 'joined'
  /** Already a member: their roles and how they joined stay as they were. */
  | 'already_member'
  /** No tenant in the ID token (a Google consumer account, a personal Microsoft account). */
  | 'no_tenant'
  /** No organization is bound to that tenant. */
  | 'not_bound'
  /** The bound organization's contract is over. */
  | 'ended'
  /** The bound organization does not let its members sign in with this provider. */
  | 'method_not_allowed'
  /** The person was a member and was removed: only a new invitation brings them back. */
  | 'removed'
  /** Every seat is taken (members and pending invitations of others). */
  | 'seats_full';

export interface UpstreamJoiningDependencies {
  db: Kysely<Database>;
  logger: Logger;
  /** Milliseconds since the epoch (tests move it); the contract status is taken at this instant. */
  now?: (() => number) | undefined;
  /** Where joins are announced as org.member_added (src/webhooks). */
  webhooks?: WebhookEvents | undefined;
}

/**
 * Joining by identity provider: a person who signs in with Microsoft from a tenant (`tid`) bound to
 * an organization, or with Google from a bound Workspace domain (`hd`), becomes its `member`.
 * Keyed only on the tenant the upstream's verified ID token names, never on the email's domain:
 * anyone can have an address at acme.example in a Google consumer account or another tenant.
 *
 * Joins an organization that is scheduled, active or suspended; membership alone issues no token
 * (only an active organization gets tokens), so a person who signs in before the contract starts
 * or during a hold is simply a member when it starts or resumes. An ended contract takes no one.
 * The seat limit is respected (a full organization: no join, a warning, the sign-in goes on); a
 * pending invitation of the person's own already holds their seat. A current member is left as
 * they are (an admin does not become `member` too), and a removed member is not brought back:
 * removal is someone's decision, which a sign-in must not undo.
 */
export class UpstreamJoining implements UpstreamSignInListener {
  private readonly organizations: OrganizationRepository;
  private readonly memberships: MembershipRepository;
  private readonly now: () => number;

  constructor(private readonly deps: UpstreamJoiningDependencies) {
    this.organizations = new OrganizationRepository(deps.db);
    this.memberships = new MembershipRepository(deps.db, deps.webhooks);
    this.now = deps.now ?? Date.now;
  }

  async upstreamSignIn(event: UpstreamSignIn): Promise<void> {
    await this.join(event);
  }

  async join(signIn: UpstreamSignIn): Promise<UpstreamJoinResult> {
    const tenant = signIn.tenant?.toLowerCase();
    if (!tenant) return 'no_tenant';
    const event = { ...signIn, tenant };
    const bound = await this.organizations.boundTo(event.provider, tenant);
    if (!bound) return 'not_bound';
    const { result, org } = await this.deps.db.transaction().execute(async (trx) => {
      // The organization's row is the lock that serialises seats (as invitations take them).
      const locked = await trx
        .selectFrom('organizations')
        .selectAll()
        .where('id', '=', bound.row.id)
        .forUpdate()
        .executeTakeFirst();
      if (!locked) return { result: 'not_bound' as const, org: bound.row };
      return { result: await this.joinLocked(trx, locked, event), org: locked };
    });
    this.report(result, org, event);
    return result;
  }

  private async joinLocked(
    trx: Transaction<Database>,
    org: OrganizationRow,
    event: UpstreamSignIn & { tenant: string },
  ): Promise<UpstreamJoinResult> {
    if (organizationStatus(org, new Date(this.now())) === 'ended') return 'ended';
    if (!jsonArray(org.sign_in_methods).includes(event.provider)) return 'method_not_allowed';
    const existing = await trx
      .selectFrom('organization_memberships')
      .select('removed_at')
      .where('organization_id', '=', org.id)
      .where('user_id', '=', event.accountId)
      .executeTakeFirst();
    if (existing) return existing.removed_at === null ? 'already_member' : 'removed';
    if (org.seat_limit !== null) {
      const taken = await this.memberships.seatsTaken(org.id, trx);
      const ownSeat = (await this.hasPendingInvitation(trx, org.id, event.accountId)) ? 1 : 0;
      if (taken - ownSeat >= org.seat_limit) return 'seats_full';
    }
    await this.memberships.join(
      {
        organizationId: org.id,
        userId: event.accountId,
        roles: [MEMBER_ROLE],
        invitedBy: `${event.provider}:${event.tenant}`,
      },
      trx,
    );
    return 'joined';
  }

  /** A pending, unexpired invitation of this person's email: seatsTaken already counts it as theirs. */
  private async hasPendingInvitation(
    trx: Transaction<Database>,
    organizationId: string,
    userId: string,
  ): Promise<boolean> {
    const row = await trx
      .selectFrom('organization_invitations as i')
      .innerJoin('users as u', (join) => join.on(sql<boolean>`lower(u.email) = lower(i.email)`))
      .select('i.id')
      .where('u.id', '=', userId)
      .where('i.organization_id', '=', organizationId)
      .where('i.status', '=', 'pending')
      .where('i.expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return row !== undefined;
  }

  private report(result: UpstreamJoinResult, org: OrganizationRow, event: UpstreamSignIn): void {
    const fields = {
      organizationId: org.id,
      accountId: event.accountId,
      provider: event.provider,
      tenant: event.tenant,
      uid: event.uid,
    };
    if (result === 'joined') {
      this.deps.logger.info({ event: 'organization.joined', ...fields, via: 'upstream' }, 'joined by upstream tenant');
    } else if (result === 'seats_full') {
      this.deps.logger.warn(
        { event: 'organization.join_refused', reason: result, ...fields, seatLimit: org.seat_limit },
        'not joined by upstream tenant: every seat is taken',
      );
    } else if (result !== 'already_member') {
      this.deps.logger.info(
        { event: 'organization.join_skipped', reason: result, ...fields },
        'not joined by upstream tenant',
      );
    }
  }
}
