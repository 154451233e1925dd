import { type Kysely, sql, type Transaction } from 'kysely';
import { DEFAULT_LOCALE, formatInstant, type Locale, preferredLocale, translator } from '../i18n/i18n.ts';
import { MailQueue } from '../notify/mail-queue.ts';
import type { Database, OrganizationInvitationRow, OrganizationRow } from '../storage/schema.ts';
import { personTimeZone } from '../users/time-zone.ts';
import { DEFAULT_INVITATION_TTL_MS, InvitationRepository } from './invitations.ts';
import { jsonArray } from './json-array.ts';
import { organizationStatus } from './organization-status.ts';
import { ADMIN_ROLE, MEMBER_ROLE } from './roles.ts';

/** The mail templates of companies (views/emails/organization-*). */
export const WELCOME_TEMPLATE = 'organization-welcome';
export const INVITATION_TEMPLATE = 'organization-invitation';
export const END_WARNING_TEMPLATE = 'organization-end-warning';

/** The shortest link a waiting invitation gets when it is finally mailed. */
const MIN_LINK_TTL_MS = 60 * 60 * 1000;

type Db = Kysely<Database> | Transaction<Database>;

export interface OrganizationMailSettings {
  /** Links start from ISSUER, never from a Host header. */
  issuer: string;
  /** The portal's name when the organization has no home client. */
  productName: string;
  now?: () => number;
}

/**
 * The emails of a company's life: the welcome to its designated admins, the invitation to anyone
 * else, and the warning before its contract ends. Every method writes to the mail queue through
 * the `db` it is given, so a caller's transaction (the contract scheduler's) commits the mail with
 * the mark that says it was sent, or neither. Nothing here reads outside that `db`.
 *
 * An invitation whose link has not been made yet (`token_hash` null: invited while the company
 * was scheduled) is *waiting*; `deliverWaiting` makes its link and mails it once the company is
 * active. Its `expires_at` is kept at the activation plus the link's validity (see `invite`),
 * so a waiting invitation holds its seat and never expires before it is sent.
 */
export class OrganizationMail {
  private readonly now: () => number;

  constructor(private readonly settings: OrganizationMailSettings) {
    this.now = settings.now ?? Date.now;
  }

  invitationUrl(token: string): string {
    return `${this.settings.issuer}/invitations/${encodeURIComponent(token)}`;
  }

  /**
   * Invites someone and, while the company is active, mails the invitation at once (the welcome
   * for an admin). Otherwise the invitation waits: the activation (or a resume) mails it, with a
   * link then valid for `linkTtlMs`. Refusals are InvitationRepository's (seat limit, a member).
   */
  async invite(
    db: Kysely<Database>,
    organization: OrganizationRow,
    input: { email: string; roles: string[]; invitedBy: string | null; linkTtlMs: number },
  ): Promise<{ invitation: OrganizationInvitationRow; mailed: boolean }> {
    // One instant for the status, the ttl and the stored expiry, so a waiting link keeps exactly its validity.
    const at = this.now();
    const active = organizationStatus(organization, new Date(at)) === 'active';
    const { invitation, token } = await new InvitationRepository(db, () => at).invite({
      organizationId: organization.id,
      email: input.email,
      roles: input.roles,
      invitedBy: input.invitedBy,
      ttlMs: active
        ? input.linkTtlMs
        : Math.max(0, new Date(organization.activates_at).getTime() - at) + input.linkTtlMs,
      withToken: active,
    });
    if (token) await this.sendInvitation(db, { invitation, token, organization });
    return { invitation, mailed: token !== undefined };
  }

  /**
   * Mails the invitation whose link was just made (`token`): the welcome for a designated admin,
   * the invitation otherwise, in the invited person's language (their account's, else Spanish).
   * For the invitations page and the company console; `db` may be the caller's transaction.
   */
  async sendInvitation(
    db: Db,
    input: { invitation: OrganizationInvitationRow; token: string; organization?: OrganizationRow },
  ): Promise<void> {
    const { invitation, token } = input;
    const organization =
      input.organization ??
      (await db
        .selectFrom('organizations')
        .selectAll()
        .where('id', '=', invitation.organization_id)
        .executeTakeFirstOrThrow());
    const { locale, timeZone } = await this.recipientOf(db, invitation.email);
    const t = translator(locale);
    const inviter = await this.inviterName(db, invitation.invited_by);
    await new MailQueue(db).add({
      to: invitation.email,
      template: invitation.designates_admin ? WELCOME_TEMPLATE : INVITATION_TEMPLATE,
      locale,
      data: {
        company: organization.name,
        portal: await this.portalName(db, organization),
        inviter,
        roles: jsonArray(invitation.roles)
          .map((role) => roleLabel(role, t))
          .join(', '),
        email: invitation.email,
        expiresAt: formatInstant(new Date(invitation.expires_at), locale, timeZone),
        invitationUrl: this.invitationUrl(token),
      },
    });
  }

  /**
   * Makes the link of each waiting invitation of this (active) company and mails it; returns how
   * many. Run it in a transaction that holds the organization's row, so a concurrent run (another
   * process's scheduler, the CLI) waits or skips it, and each invitation is mailed once.
   */
  async deliverWaiting(trx: Transaction<Database>, organization: OrganizationRow): Promise<number> {
    const waiting = await trx
      .selectFrom('organization_invitations')
      .selectAll()
      .where('organization_id', '=', organization.id)
      .where('status', '=', 'pending')
      .where('token_hash', 'is', null)
      .orderBy('created_at')
      .orderBy('email')
      .execute();
    const invitations = new InvitationRepository(trx, this.now);
    for (const row of waiting) {
      const token = await invitations.issueToken(row.id, this.linkTtlMs(row, organization), trx);
      const issued = await trx
        .selectFrom('organization_invitations')
        .selectAll()
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      await this.sendInvitation(trx, { invitation: issued, token, organization });
    }
    return waiting.length;
  }

  /** Warns the company's admins (members with the admin role) that its contract ends; returns how many. */
  async sendEndWarnings(db: Db, organization: OrganizationRow): Promise<number> {
    if (!organization.ends_at) return 0;
    const admins = await db
      .selectFrom('organization_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['u.email', 'u.locale', 'u.time_zone'])
      .where('m.organization_id', '=', organization.id)
      .where('m.removed_at', 'is', null)
      .where('u.disabled', '=', false)
      .where(sql<boolean>`m.roles @> ${JSON.stringify([ADMIN_ROLE])}::jsonb`)
      .orderBy('u.email')
      .execute();
    const portal = await this.portalName(db, organization);
    const queue = new MailQueue(db);
    for (const admin of admins) {
      const locale = preferredLocale(admin.locale, DEFAULT_LOCALE);
      await queue.add({
        to: admin.email,
        template: END_WARNING_TEMPLATE,
        locale,
        data: {
          company: organization.name,
          portal,
          endsAt: formatInstant(new Date(organization.ends_at), locale, personTimeZone(admin.time_zone)),
        },
      });
    }
    return admins.length;
  }

  /** How long the link of a waiting invitation stays valid once mailed: what its expiry kept beyond the activation. */
  private linkTtlMs(row: OrganizationInvitationRow, organization: OrganizationRow): number {
    const kept = new Date(row.expires_at).getTime() - new Date(organization.activates_at).getTime();
    return kept >= MIN_LINK_TTL_MS ? kept : DEFAULT_INVITATION_TTL_MS;
  }

  /**
   * The invited person's language and time zone: their account's when they have one, else Spanish
   * and the issuer's zone (what request-time emails fall back to: src/users/time-zone.ts). Sent
   * outside any request, there is no browser to ask.
   */
  private async recipientOf(db: Db, email: string): Promise<{ locale: Locale; timeZone: string }> {
    const user = await db
      .selectFrom('users')
      .select(['locale', 'time_zone'])
      .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
      .executeTakeFirst();
    return { locale: preferredLocale(user?.locale, DEFAULT_LOCALE), timeZone: personTimeZone(user?.time_zone) };
  }

  /** An admin who invited (by user id) is named; the operator (or anyone else) is the company itself. */
  private async inviterName(db: Db, invitedBy: string | null): Promise<string | undefined> {
    if (!invitedBy || invitedBy === 'operator') return undefined;
    const user = await db.selectFrom('users').select(['name', 'email']).where('id', '=', invitedBy).executeTakeFirst();
    return user ? (user.name ?? user.email) : undefined;
  }

  /** The home client's name, else the product's. Read from the clients table, as stored. */
  private async portalName(db: Db, organization: OrganizationRow): Promise<string> {
    if (!organization.home_client_id) return this.settings.productName;
    const client = await db
      .selectFrom('clients')
      .select('metadata')
      .where('client_id', '=', organization.home_client_id)
      .executeTakeFirst();
    const name = (client?.metadata as { client_name?: unknown } | undefined)?.client_name;
    return typeof name === 'string' && name ? name : this.settings.productName;
  }
}

/** Built-in roles in the reader's language; an operator's roles by their name. */
function roleLabel(role: string, t: ReturnType<typeof translator>): string {
  if (role === ADMIN_ROLE || role === MEMBER_ROLE) return t(`email.organization.role.${role}`);
  return role;
}
