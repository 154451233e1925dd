import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, OrganizationInvitationRow, OrganizationRow } from '../storage/schema.ts';
import { hashOpaqueToken, isOpaqueToken, newOpaqueToken } from '../users/account-tokens.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import { jsonArray } from './json-array.ts';
import { MembershipRepository } from './memberships.ts';
import { OrganizationInputError } from './organization-errors.ts';
import { ADMIN_ROLE } from './roles.ts';

export const DEFAULT_INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** What a link finds: only `pending` can be accepted; the others get their own page. */
export type InvitationState = 'pending' | 'accepted' | 'revoked' | 'expired';

export interface Invitation {
  row: OrganizationInvitationRow;
  organization: OrganizationRow;
  roles: string[];
  state: InvitationState;
}

export interface NewInvitation {
  organizationId: string;
  email: string;
  /** Already checked against the role templates. */
  roles: string[];
  invitedBy: string | null;
  ttlMs?: number | undefined;
  /** false for a scheduled company's admins: their link is made when the welcome is mailed. */
  withToken: boolean;
}

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Run inside the transaction that accepts an invitation, after the membership and the status are
 * written (the admins' notice is queued there: it commits with the acceptance, or neither).
 */
export type AcceptanceHook = (trx: Transaction<Database>, accepted: Invitation, userId: string) => Promise<void>;

/**
 * Invitations to an organization. The link's token is 256 random bits; only its SHA-256 is kept.
 * Inviting an address that already has a pending invitation renews that one (new link, new
 * expiry, roles replaced): the older link stops working, as with every other emailed link.
 */
export class InvitationRepository {
  private readonly memberships: MembershipRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
    private readonly afterAccept?: AcceptanceHook,
    webhooks?: WebhookEvents,
  ) {
    this.memberships = new MembershipRepository(db, webhooks);
  }

  /** Refused beyond the seat limit (a renewal takes no new seat) and for a current member. */
  async invite(input: NewInvitation): Promise<{ invitation: OrganizationInvitationRow; token: string | undefined }> {
    const email = normalizeEmail(input.email);
    if (!isValidEmail(email))
      throw new OrganizationInputError(`"${input.email}" is not a valid email address`, 'malformed');
    const ttlMs = input.ttlMs ?? DEFAULT_INVITATION_TTL_MS;
    return this.db.transaction().execute(async (trx) => {
      const org = await trx
        .selectFrom('organizations')
        .selectAll()
        .where('id', '=', input.organizationId)
        .forUpdate()
        .executeTakeFirst();
      if (!org) throw new OrganizationInputError('no such organization');
      const member = await trx
        .selectFrom('organization_memberships as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select('m.user_id')
        .where('m.organization_id', '=', org.id)
        .where('m.removed_at', 'is', null)
        .where(sql<string>`lower(u.email)`, '=', email.toLowerCase())
        .executeTakeFirst();
      if (member) throw new OrganizationInputError(`${email} is already a member of ${org.name}`, 'already_member');
      const existing = await this.pendingFor(trx, org.id, email);
      if (!existing && org.seat_limit !== null) {
        const taken = await this.memberships.seatsTaken(org.id, trx);
        if (taken >= org.seat_limit) {
          throw new OrganizationInputError(
            `${org.name} has no free seat: its limit is ${org.seat_limit} and ${taken} are taken by members and pending invitations`,
            'no_seat',
          );
        }
      }
      const token = input.withToken ? newOpaqueToken() : undefined;
      const now = new Date(this.now());
      const values = {
        roles: JSON.stringify([...new Set(input.roles)].sort()),
        token_hash: token ? hashOpaqueToken(token) : null,
        expires_at: new Date(now.getTime() + ttlMs),
        invited_by: input.invitedBy,
        designates_admin: input.roles.includes(ADMIN_ROLE),
        times_sent: token ? (existing?.times_sent ?? 0) + 1 : (existing?.times_sent ?? 0),
        last_sent_at: token ? now : (existing?.last_sent_at ?? null),
      };
      const invitation = existing
        ? await trx
            .updateTable('organization_invitations')
            .set(values)
            .where('id', '=', existing.id)
            .returningAll()
            .executeTakeFirstOrThrow()
        : await trx
            .insertInto('organization_invitations')
            .values({ id: randomUUID(), organization_id: org.id, email, ...values })
            .returningAll()
            .executeTakeFirstOrThrow();
      return { invitation, token };
    });
  }

  /**
   * A new link for a pending invitation, valid `ttlMs` from now: the welcome email of a company
   * whose contract starts, or a resend. `db` may be the scheduler's transaction.
   */
  async issueToken(invitationId: string, ttlMs: number = DEFAULT_INVITATION_TTL_MS, db: Db = this.db): Promise<string> {
    const token = newOpaqueToken();
    const now = new Date(this.now());
    await db
      .updateTable('organization_invitations')
      .set({
        token_hash: hashOpaqueToken(token),
        expires_at: new Date(now.getTime() + ttlMs),
        times_sent: sql<number>`times_sent + 1`,
        last_sent_at: now,
      })
      .where('id', '=', invitationId)
      .where('status', '=', 'pending')
      .execute();
    return token;
  }

  /** The invitation behind a link, whatever its state; undefined if no link ever had this token. */
  async findByToken(token: string): Promise<Invitation | undefined> {
    if (!isOpaqueToken(token)) return undefined;
    const row = await this.db
      .selectFrom('organization_invitations')
      .selectAll()
      .where('token_hash', '=', hashOpaqueToken(token))
      .executeTakeFirst();
    return row ? this.describe(this.db, row) : undefined;
  }

  async pending(organizationId: string): Promise<OrganizationInvitationRow[]> {
    return this.db
      .selectFrom('organization_invitations')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('status', '=', 'pending')
      .where('expires_at', '>', new Date(this.now()))
      .orderBy('email')
      .execute();
  }

  /** Revokes the address's pending invitation; false if there was none. */
  async revoke(organizationId: string, email: string): Promise<boolean> {
    const result = await this.db
      .updateTable('organization_invitations')
      .set({ status: 'revoked' })
      .where('organization_id', '=', organizationId)
      .where('status', '=', 'pending')
      .where(sql<string>`lower(email)`, '=', normalizeEmail(email).toLowerCase())
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Accepts the invitation for this user, once: the membership with the invitation's roles and
   * the accepted mark are one transaction, and a second use (another tab, a replay) is refused.
   * The caller has checked that the user's verified email is the invited address.
   */
  async accept(token: string, userId: string): Promise<Invitation> {
    if (!isOpaqueToken(token)) throw new OrganizationInputError('this invitation link is not valid');
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('organization_invitations')
        .selectAll()
        .where('token_hash', '=', hashOpaqueToken(token))
        .forUpdate()
        .executeTakeFirst();
      if (!row) throw new OrganizationInputError('this invitation link is not valid');
      const invitation = await this.describe(trx, row);
      if (invitation.state !== 'pending') throw new OrganizationInputError(`this invitation is ${invitation.state}`);
      await this.memberships.join(
        { organizationId: row.organization_id, userId, roles: invitation.roles, invitedBy: row.invited_by },
        trx,
      );
      const accepted = await trx
        .updateTable('organization_invitations')
        .set({ status: 'accepted', accepted_by: userId, accepted_at: new Date(this.now()) })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      // The hash stays: a used link is then told it was used, not that it never existed.
      const done: Invitation = { ...invitation, row: accepted, state: 'accepted' };
      await this.afterAccept?.(trx, done, userId);
      return done;
    });
  }

  private async pendingFor(trx: Db, organizationId: string, email: string) {
    return trx
      .selectFrom('organization_invitations')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('status', '=', 'pending')
      .where(sql<string>`lower(email)`, '=', email.toLowerCase())
      .executeTakeFirst();
  }

  private async describe(db: Db, row: OrganizationInvitationRow): Promise<Invitation> {
    const organization = await db
      .selectFrom('organizations')
      .selectAll()
      .where('id', '=', row.organization_id)
      .executeTakeFirstOrThrow();
    const expired = row.status === 'pending' && new Date(row.expires_at).getTime() <= this.now();
    const state = (expired ? 'expired' : row.status) as InvitationState;
    return { row, organization, roles: jsonArray(row.roles), state };
  }
}
