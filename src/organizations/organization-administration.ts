import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import { companyColumns } from './company-columns.ts';
import type { ContractScheduler } from './contract-scheduler.ts';
import { DEFAULT_INVITATION_TTL_MS, InvitationRepository } from './invitations.ts';
import { MembershipRepository } from './memberships.ts';
import {
  assertClientExists,
  assertEndsInFuture,
  assertSlugFree,
  assertTaxIdFree,
  assertUnbound,
} from './organization-change-checks.ts';
import { assertContractDates, type OrganizationFields } from './organization-input.ts';
import type { OrganizationMail } from './organization-mail.ts';
import { OrganizationRefusal, refusedAs, refusingAs } from './organization-refusal.ts';
import type { OrganizationSessions } from './organization-sessions.ts';
import { organizationStatus } from './organization-status.ts';
import { type Organization, OrganizationRepository } from './organizations.ts';
import { ADMIN_ROLE } from './roles.ts';

/** What a change did, for the caller's answer and its audit event. */
export interface OrganizationOutcome {
  organization: Organization;
  /** Invitations mailed by it: the admins' welcomes, and what waited for an activation it brought. */
  mailed: number;
}

/**
 * What an operator does to an organization, from the CLI (`umbral orgs …`) and the Admin API
 * alike: add it with its designated admins, change its company data, contract dates, seats,
 * settings, logo and upstream bindings, suspend, resume and remove it. Everything that could
 * refuse is checked before anything is written, so a refusal (OrganizationRefusal, naming the
 * field) changes nothing. Admins are pending invitations with the admin role: the welcome is
 * mailed at once while the company is active, else at its activation (the scheduler's own code
 * path, which also announces `org.activated`). Callers record who did it (the audit log).
 */
export class OrganizationAdministration {
  readonly orgs: OrganizationRepository;
  private readonly memberships: MembershipRepository;
  private readonly invitations: InvitationRepository;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      mail: OrganizationMail;
      sessions: OrganizationSessions;
      contracts: ContractScheduler;
      now?: (() => number) | undefined;
      webhooks?: WebhookEvents | undefined;
    },
  ) {
    this.now = deps.now ?? Date.now;
    this.orgs = new OrganizationRepository(deps.db);
    this.memberships = new MembershipRepository(deps.db, deps.webhooks);
    this.invitations = new InvitationRepository(deps.db, this.now, undefined, deps.webhooks);
  }

  /** Adds the organization (active from now unless `activatesAt`) and invites its admins. */
  async create(
    fields: OrganizationFields & { name: string; slug: string },
    admins: string[],
  ): Promise<OrganizationOutcome> {
    const now = new Date(this.now());
    const activatesAt = fields.activatesAt ?? now;
    assertEndsInFuture(fields.endsAt, now);
    refusedAs('ends_at', 'contract_dates', () => assertContractDates(activatesAt, fields.endsAt ?? null));
    if (fields.seatLimit != null && admins.length > fields.seatLimit) {
      throw new OrganizationRefusal(
        `${admins.length} admins do not fit in ${fields.seatLimit} seats`,
        'admins',
        'no_seat',
      );
    }
    const company = refusedAs('tax_id', 'invalid', () => companyColumns(fields));
    await assertSlugFree(this.orgs, fields.slug, undefined);
    await assertTaxIdFree(this.orgs, fields.country ?? null, company.tax_id, undefined);
    if (fields.homeClientId) await assertClientExists(this.deps.db, fields.homeClientId);
    await assertUnbound(this.orgs, fields);
    const org = await refusingAs('name', 'invalid', () => this.orgs.create({ ...fields, activatesAt }));
    let mailed: number;
    try {
      mailed = await this.inviteAdmins(org, admins);
    } catch (error) {
      // Nothing can refuse these after the checks above; should it happen anyway, leave no half-made company.
      await this.orgs.remove(org.row.id);
      throw error;
    }
    // Active already: the welcomes went above; the activation is recorded as carried out.
    mailed += await this.deps.contracts.sendWaiting(org.row.id);
    return { organization: await this.reload(org), mailed };
  }

  /**
   * Changes the fields given and invites new admins. Moving the activation moves the waiting
   * invitations' expiry with it (their link keeps its validity past the new date); an update
   * that makes the company active mails what waited for that.
   */
  async update(org: Organization, fields: OrganizationFields, admins: string[]): Promise<OrganizationOutcome> {
    const { row } = org;
    const now = new Date(this.now());
    assertEndsInFuture(fields.endsAt, now);
    const company = refusedAs('tax_id', 'invalid', () => companyColumns(fields, row));
    const country = fields.country === undefined ? row.country : fields.country;
    await assertTaxIdFree(this.orgs, country, company.tax_id === undefined ? row.tax_id : company.tax_id, row.id);
    const activatesAt = fields.activatesAt ?? new Date(row.activates_at);
    const endsAt = fields.endsAt === undefined ? (row.ends_at ? new Date(row.ends_at) : null) : fields.endsAt;
    refusedAs(fields.activatesAt && fields.endsAt === undefined ? 'activates_at' : 'ends_at', 'contract_dates', () =>
      assertContractDates(activatesAt, endsAt),
    );
    if (fields.slug !== undefined) await assertSlugFree(this.orgs, fields.slug, row.id);
    if (fields.homeClientId) await assertClientExists(this.deps.db, fields.homeClientId);
    await assertUnbound(this.orgs, fields, org);
    if (admins.length && organizationStatus(row, now) === 'ended') {
      throw new OrganizationRefusal(
        `${row.slug} has ended: it takes no admins (give it a new contract end first)`,
        'admins',
        'org_ended',
      );
    }
    const newAdmins = await this.adminsToInvite(org, admins);
    const seatLimit = fields.seatLimit === undefined ? row.seat_limit : fields.seatLimit;
    const taken = await this.memberships.seatsTaken(row.id);
    if (seatLimit !== null && taken + newAdmins > seatLimit) {
      throw new OrganizationRefusal(
        `${row.name} would need ${taken + newAdmins} seats (${taken} taken by members and pending invitations${newAdmins ? `, ${newAdmins} new admins` : ''}): more than ${seatLimit}`,
        newAdmins ? 'admins' : 'seat_limit',
        'no_seat',
        true,
      );
    }

    const updated = await refusingAs('name', 'invalid', () => this.orgs.update(row.id, fields));
    if (fields.activatesAt !== undefined) await this.shiftWaitingInvitations(org, fields.activatesAt);
    let mailed = await this.inviteAdmins(updated, admins);
    mailed += await this.deps.contracts.sendWaiting(row.id);
    return { organization: await this.reload(org), mailed };
  }

  /** The operator's hold: members' sessions at the portals that require an organization end now. */
  async suspend(org: Organization): Promise<OrganizationOutcome & { portalSessions: number }> {
    if (!(await this.orgs.suspend(org.row.id))) {
      throw new OrganizationRefusal(`${org.row.slug} is already suspended`, 'organization', 'already_suspended', true);
    }
    const logouts = await this.deps.sessions.takeOut(this.deps.db, { organizationId: org.row.id }, 'required');
    this.deps.sessions.deliver(logouts);
    return { organization: await this.reload(org), mailed: 0, portalSessions: logouts.length };
  }

  /** Lifts the hold; a welcome the suspension held back goes now. */
  async resume(org: Organization): Promise<OrganizationOutcome> {
    if (!(await this.orgs.resume(org.row.id))) {
      throw new OrganizationRefusal(`${org.row.slug} is not suspended`, 'organization', 'not_suspended', true);
    }
    const mailed = await this.deps.contracts.sendWaiting(org.row.id);
    return { organization: await this.reload(org), mailed };
  }

  /** Removes it with its memberships and invitations; its members' sessions at the portals that require one end. */
  async remove(org: Organization): Promise<{ portalSessions: number }> {
    const logouts = await this.deps.sessions.takeOut(this.deps.db, { organizationId: org.row.id }, 'required');
    await this.orgs.remove(org.row.id);
    this.deps.sessions.deliver(logouts);
    return { portalSessions: logouts.length };
  }

  private async reload(org: Organization): Promise<Organization> {
    return (await this.orgs.findById(org.row.id)) ?? org;
  }

  /** Each admin is a pending invitation with the admin role, invited by the operator. */
  private async inviteAdmins(org: Organization, admins: string[]): Promise<number> {
    let mailed = 0;
    for (const email of admins) {
      const invited = await this.deps.mail.invite(this.deps.db, org.row, {
        email,
        roles: [ADMIN_ROLE],
        invitedBy: 'operator',
        linkTtlMs: DEFAULT_INVITATION_TTL_MS,
      });
      if (invited.mailed) mailed += 1;
    }
    return mailed;
  }

  /** New admins take a seat each, unless they already have a pending invitation; a member is refused. */
  private async adminsToInvite(org: Organization, admins: string[]): Promise<number> {
    if (!admins.length) return 0;
    const members = new Set((await this.memberships.members(org.row.id)).map((m) => m.email.toLowerCase()));
    const invited = new Set((await this.invitations.pending(org.row.id)).map((i) => i.email.toLowerCase()));
    let seats = 0;
    for (const email of admins) {
      if (members.has(email.toLowerCase())) {
        throw new OrganizationRefusal(
          `${email} is already a member of ${org.row.name}: an admin gives them the admin role`,
          'admins',
          'already_member',
          true,
        );
      }
      if (!invited.has(email.toLowerCase())) seats += 1;
    }
    return seats;
  }

  /** Waiting invitations (no link yet) keep their link's validity past the activation when it moves. */
  private async shiftWaitingInvitations(org: Organization, activatesAt: Date): Promise<void> {
    const seconds = (activatesAt.getTime() - new Date(org.row.activates_at).getTime()) / 1000;
    if (!seconds) return;
    await this.deps.db
      .updateTable('organization_invitations')
      .set({ expires_at: sql<Date>`expires_at + make_interval(secs => ${seconds})` })
      .where('organization_id', '=', org.row.id)
      .where('status', '=', 'pending')
      .where('token_hash', 'is', null)
      .execute();
  }
}
