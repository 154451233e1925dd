import type { Kysely, Transaction } from 'kysely';
import type { AuditTrail } from '../audit/audit-event.ts';
import { translator } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { MailQueue } from '../notify/mail-queue.ts';
import type { Database } from '../storage/schema.ts';
import { type CompanyData, organizationFieldsOf } from './company-form.ts';
import { MembershipRepository } from './memberships.ts';
import { organizationAdmins, portalName } from './organization-admins.ts';
import { TaxIdTakenError } from './organization-errors.ts';
import { slugFromName } from './organization-input.ts';
import { type Organization, OrganizationRepository } from './organizations.ts';
import { ADMIN_ROLE } from './roles.ts';
import { formatTaxId, taxIdName } from './tax-ids.ts';

export const JOIN_REQUEST_TEMPLATE = 'organization-join-request';
/** The same person asking the same company again within this time mails its admins no more. */
const JOIN_REQUEST_QUIET_MS = 24 * 60 * 60 * 1000;
/** `invited_by` of a member who registered the company themselves. */
export const SELF_REGISTERED = 'company_step';

export type CompanyRegistrationResult =
  /** Created, active at once, the person its admin. */
  | { kind: 'created'; organization: Organization }
  /** The person belongs to an organization already (a second tab got there first): nothing created. */
  | { kind: 'member' }
  /** The tax id is another company's: nothing created, its admins told (at most once a day per person). */
  | { kind: 'taken'; adminsMailed: number };

export interface CompanyRegistrationDependencies {
  db: Kysely<Database>;
  logger: Logger;
  audit: AuditTrail;
  /** The console's address in the admins' emails starts from ISSUER. */
  issuer: string;
  productName: string;
  now?: (() => number) | undefined;
}

/**
 * A company registered by the person who signs up for it (the company step): the organization,
 * active from now, and their admin membership, in one transaction. One tax id, one company: when
 * the tax id is another organization's, nothing is created and that organization's admins are
 * mailed (in their language, through the mail queue, in the transaction that records the
 * request) that someone asked to join; the caller tells the person only that.
 */
export class CompanyRegistration {
  private readonly now: () => number;

  constructor(private readonly deps: CompanyRegistrationDependencies) {
    this.now = deps.now ?? Date.now;
  }

  async register(input: {
    userId: string;
    clientId: string;
    company: CompanyData;
  }): Promise<CompanyRegistrationResult> {
    const { company } = input;
    let result: CompanyRegistrationResult;
    try {
      result = await this.deps.db.transaction().execute(async (trx) => {
        // The person's row held: two submissions at once create one company.
        await trx.selectFrom('users').select('id').where('id', '=', input.userId).forUpdate().executeTakeFirstOrThrow();
        const member = await trx
          .selectFrom('organization_memberships')
          .select('organization_id')
          .where('user_id', '=', input.userId)
          .where('removed_at', 'is', null)
          .executeTakeFirst();
        if (member) return { kind: 'member' as const };
        const organization = await new OrganizationRepository(trx as unknown as Kysely<Database>).create(
          {
            name: company.legalName,
            slug: await freeSlug(trx, company.legalName),
            activatesAt: new Date(this.now()),
            ...organizationFieldsOf(company),
            homeClientId: input.clientId,
          },
          trx,
        );
        await new MembershipRepository(trx as unknown as Kysely<Database>).join(
          {
            organizationId: organization.row.id,
            userId: input.userId,
            roles: [ADMIN_ROLE],
            invitedBy: SELF_REGISTERED,
          },
          trx,
        );
        return { kind: 'created' as const, organization };
      });
    } catch (error) {
      if (!(error instanceof TaxIdTakenError)) throw error;
      return { kind: 'taken', adminsMailed: await this.requestToJoin(input.userId, input.clientId, error) };
    }
    if (result.kind === 'created') {
      this.deps.audit.record({
        type: 'organization.registered',
        actor: { kind: 'user', id: input.userId },
        subjectUserId: input.userId,
        organizationId: result.organization.row.id,
        data: { portal: input.clientId, country: company.country, roles: [ADMIN_ROLE] },
      });
    }
    return result;
  }

  /** Records the request and mails the holder's admins, unless this person asked in the last day. */
  private async requestToJoin(userId: string, clientId: string, taken: TaxIdTakenError): Promise<number> {
    const at = new Date(this.now());
    const mailed = await this.deps.db.transaction().execute(async (trx) => {
      const holder = await trx
        .selectFrom('organizations')
        .select(['id', 'name', 'home_client_id'])
        .where('country', '=', taken.country)
        .where('tax_id', '=', taken.taxId)
        .executeTakeFirst();
      if (!holder) return 0;
      const recorded = await trx
        .insertInto('organization_join_requests')
        .values({ organization_id: holder.id, user_id: userId, client_id: clientId, requested_at: at })
        .onConflict((oc) =>
          oc
            .columns(['organization_id', 'user_id'])
            .doUpdateSet({ requested_at: at, client_id: clientId })
            .where('organization_join_requests.requested_at', '<=', new Date(at.getTime() - JOIN_REQUEST_QUIET_MS)),
        )
        .returning('user_id')
        .executeTakeFirst();
      if (!recorded) return -1;
      const person = await trx
        .selectFrom('users')
        .select(['email', 'name'])
        .where('id', '=', userId)
        .executeTakeFirstOrThrow();
      const portal = await portalName(trx, clientId, this.deps.productName);
      const admins = await organizationAdmins(trx, holder.id);
      const queue = new MailQueue(trx as unknown as Kysely<Database>);
      for (const admin of admins) {
        const t = translator(admin.locale);
        await queue.add({
          to: admin.email,
          template: JOIN_REQUEST_TEMPLATE,
          locale: admin.locale,
          data: {
            company: holder.name,
            portal,
            requester: person.name ?? person.email,
            requesterEmail: person.email,
            taxIdName: taxIdName(taken.country) ?? t('company.tax_id.generic_name'),
            taxId: formatTaxId(taken.country, taken.taxId),
            consoleUrl: `${this.deps.issuer}/org`,
          },
        });
      }
      this.deps.audit.record({
        type: 'organization.join_requested',
        actor: { kind: 'user', id: userId },
        subjectUserId: userId,
        organizationId: holder.id,
        data: { portal: clientId, adminsMailed: admins.length },
      });
      return admins.length;
    });
    this.deps.logger.info(
      { event: 'organization.join_requested', userId, adminsMailed: Math.max(mailed, 0), repeated: mailed < 0 },
      'a tax id registered to another company was given at the company step',
    );
    return Math.max(mailed, 0);
  }
}

/** The legal name's slug, or with -2, -3… (or a random tail) when taken. */
async function freeSlug(trx: Transaction<Database>, legalName: string): Promise<string> {
  let base: string;
  try {
    base = slugFromName(legalName).slice(0, 56).replace(/-+$/, '');
  } catch {
    base = 'empresa';
  }
  const candidates = [base, ...Array.from({ length: 8 }, (_, i) => `${base}-${i + 2}`)];
  const taken = new Set(
    (await trx.selectFrom('organizations').select('slug').where('slug', 'in', candidates).execute()).map((r) => r.slug),
  );
  return candidates.find((slug) => !taken.has(slug)) ?? `${base}-${Math.random().toString(36).slice(2, 8)}`;
}
