import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, OrganizationRow } from '../storage/schema.ts';
import { companyColumns } from './company-columns.ts';
import { jsonArray } from './json-array.ts';
import { OrganizationInputError, TaxIdTakenError } from './organization-errors.ts';
import {
  assertContractDates,
  type OrganizationFields,
  SIGN_IN_METHODS,
  type SignInMethod,
} from './organization-input.ts';
import { formatTaxId, taxIdName } from './tax-ids.ts';

/** An organization with its upstream bindings, as the CLI, the steps and the scheduler read it. */
export interface Organization {
  row: OrganizationRow;
  signInMethods: SignInMethod[];
  microsoftTenants: string[];
  googleDomains: string[];
}

type Db = Kysely<Database> | Transaction<Database>;

/** The organizations table and its upstream bindings (src/organizations). */
export class OrganizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Creates it with its bindings in one transaction; a duplicate slug, a bound tenant, a tax id
   * or postal code its country refuses, and a tax id registered to another organization are refused.
   * `within`: the caller's transaction (the company step adds its admin in the same one).
   */
  async create(
    fields: OrganizationFields & { name: string; slug: string; activatesAt: Date },
    within?: Transaction<Database>,
  ): Promise<Organization> {
    assertContractDates(fields.activatesAt, fields.endsAt ?? null);
    const company = companyColumns(fields);
    const id = randomUUID();
    const run = async (trx: Transaction<Database>) => {
      await assertTaxIdFree(trx, fields.country ?? null, company.tax_id ?? null, id);
      const inserted = await trx
        .insertInto('organizations')
        .values({
          id,
          slug: fields.slug,
          name: fields.name,
          country: fields.country ?? null,
          ...company,
          activates_at: fields.activatesAt,
          ends_at: fields.endsAt ?? null,
          seat_limit: fields.seatLimit ?? null,
          home_client_id: fields.homeClientId ?? null,
          logo_uri: fields.logoUri ?? null,
          require_mfa: fields.requireMfa ?? false,
          single_session: fields.singleSession ?? false,
          sign_in_methods: JSON.stringify(fields.signInMethods ?? SIGN_IN_METHODS),
        })
        .onConflict((oc) => oc.column('slug').doNothing())
        .returning('id')
        .executeTakeFirst()
        .catch(taxIdTaken(fields.country ?? null, company.tax_id ?? null));
      if (!inserted) throw new OrganizationInputError(`an organization with slug "${fields.slug}" already exists`);
      await replaceBindings(trx, id, 'microsoft', fields.microsoftTenants ?? []);
      await replaceBindings(trx, id, 'google', fields.googleDomains ?? []);
      return (await load(trx, id)) as Organization;
    };
    return within ? run(within) : this.db.transaction().execute(run);
  }

  /** Changes only the given fields; the contract dates are checked as they will be. */
  async update(id: string, fields: OrganizationFields): Promise<Organization> {
    return this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('organizations')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!current) throw new OrganizationInputError('no such organization');
      const activatesAt = fields.activatesAt ?? new Date(current.activates_at);
      const endsAt = fields.endsAt === undefined ? (current.ends_at ? new Date(current.ends_at) : null) : fields.endsAt;
      assertContractDates(activatesAt, endsAt);
      if (fields.slug !== undefined && fields.slug !== current.slug) {
        const taken = await trx
          .selectFrom('organizations')
          .select('id')
          .where('slug', '=', fields.slug)
          .executeTakeFirst();
        if (taken) throw new OrganizationInputError(`an organization with slug "${fields.slug}" already exists`);
      }
      const company = companyColumns(fields, current);
      const country = fields.country === undefined ? current.country : fields.country;
      const taxId = company.tax_id === undefined ? current.tax_id : company.tax_id;
      await assertTaxIdFree(trx, country, taxId, id);
      const changes: Record<string, unknown> = { ...company };
      if (fields.name !== undefined) changes.name = fields.name;
      if (fields.slug !== undefined) changes.slug = fields.slug;
      if (fields.country !== undefined) changes.country = fields.country;
      if (fields.activatesAt !== undefined) {
        changes.activates_at = fields.activatesAt;
        // Moved later than now before it was carried out: the welcome waits for the new date.
      }
      if (fields.endsAt !== undefined) {
        changes.ends_at = fields.endsAt;
        // A new end date is a new event: it is warned about and carried out again.
        changes.end_warned_at = null;
        changes.ended_at = null;
      }
      if (fields.seatLimit !== undefined) changes.seat_limit = fields.seatLimit;
      if (fields.homeClientId !== undefined) changes.home_client_id = fields.homeClientId;
      if (fields.logoUri !== undefined) changes.logo_uri = fields.logoUri;
      if (fields.requireMfa !== undefined) changes.require_mfa = fields.requireMfa;
      if (fields.singleSession !== undefined) changes.single_session = fields.singleSession;
      if (fields.signInMethods !== undefined) changes.sign_in_methods = JSON.stringify(fields.signInMethods);
      await trx
        .updateTable('organizations')
        .set({ ...changes, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .execute()
        .catch(taxIdTaken(country, taxId));
      if (fields.microsoftTenants !== undefined) await replaceBindings(trx, id, 'microsoft', fields.microsoftTenants);
      if (fields.googleDomains !== undefined) await replaceBindings(trx, id, 'google', fields.googleDomains);
      return (await load(trx, id)) as Organization;
    });
  }

  async findById(id: string): Promise<Organization | undefined> {
    return load(this.db, id);
  }

  /** An organization named by a portal or an operator: its id or its slug. */
  async find(idOrSlug: string): Promise<Organization | undefined> {
    const row = await this.db
      .selectFrom('organizations')
      .select('id')
      .where((eb) => eb.or([eb('id', '=', idOrSlug), eb('slug', '=', idOrSlug)]))
      .executeTakeFirst();
    return row ? load(this.db, row.id) : undefined;
  }

  async list(): Promise<Organization[]> {
    const rows = await this.db.selectFrom('organizations').select('id').orderBy('name').orderBy('slug').execute();
    const all = await Promise.all(rows.map((row) => load(this.db, row.id)));
    return all.filter((org): org is Organization => org !== undefined);
  }

  /** The organization a tax id (compact, as stored) is registered to in that country. */
  async withTaxId(country: string, taxId: string): Promise<Organization | undefined> {
    const row = await this.db
      .selectFrom('organizations')
      .select('id')
      .where('country', '=', country)
      .where('tax_id', '=', taxId)
      .executeTakeFirst();
    return row ? load(this.db, row.id) : undefined;
  }

  /** The organization whose members sign in from this Microsoft tenant or Google Workspace domain. */
  async boundTo(provider: 'microsoft' | 'google', value: string): Promise<Organization | undefined> {
    const binding = await this.db
      .selectFrom('organization_upstream_bindings')
      .select('organization_id')
      .where('provider', '=', provider)
      .where('value', '=', value.toLowerCase())
      .executeTakeFirst();
    return binding ? load(this.db, binding.organization_id) : undefined;
  }

  /** The operator's hold; true if it changed anything. */
  async suspend(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('organizations')
      .set({ suspended_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('suspended_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async resume(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('organizations')
      .set({ suspended_at: null, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('suspended_at', 'is not', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes it with its memberships, invitations and bindings (cascade). */
  async remove(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('organizations').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

async function load(db: Db, id: string): Promise<Organization | undefined> {
  const row = await db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const bindings = await db
    .selectFrom('organization_upstream_bindings')
    .select(['provider', 'value'])
    .where('organization_id', '=', id)
    .orderBy('value')
    .execute();
  return {
    row,
    signInMethods: jsonArray(row.sign_in_methods) as SignInMethod[],
    microsoftTenants: bindings.filter((b) => b.provider === 'microsoft').map((b) => b.value),
    googleDomains: bindings.filter((b) => b.provider === 'google').map((b) => b.value),
  };
}

/** One tax id, one company: refused when another organization holds it in that country. */
async function assertTaxIdFree(db: Db, country: string | null, taxId: string | null, ownId: string): Promise<void> {
  if (country === null || taxId === null) return;
  const holder = await db
    .selectFrom('organizations')
    .select('id')
    .where('country', '=', country)
    .where('tax_id', '=', taxId)
    .where('id', '<>', ownId)
    .executeTakeFirst();
  if (holder) throw takenError(country, taxId, holder.id);
}

/** Two at once got past assertTaxIdFree: the unique index (country, tax_id) refuses the second. */
function taxIdTaken(country: string | null, taxId: string | null) {
  return (error: unknown): never => {
    const unique = (error as { code?: string; message?: string }).code === '23505';
    if (unique && country && taxId && String((error as Error).message).includes('organizations_tax_id')) {
      throw takenError(country, taxId, '');
    }
    throw error;
  };
}

function takenError(country: string, taxId: string, organizationId: string): TaxIdTakenError {
  return new TaxIdTakenError(
    country,
    taxId,
    organizationId,
    `${taxIdName(country) ?? 'tax id'} ${formatTaxId(country, taxId)} (${country}) is already registered to another organization: one tax id, one company`,
  );
}

async function replaceBindings(
  trx: Transaction<Database>,
  organizationId: string,
  provider: 'microsoft' | 'google',
  values: string[],
): Promise<void> {
  await trx
    .deleteFrom('organization_upstream_bindings')
    .where('organization_id', '=', organizationId)
    .where('provider', '=', provider)
    .execute();
  for (const value of new Set(values.map((v) => v.toLowerCase()))) {
    const bound = await trx
      .insertInto('organization_upstream_bindings')
      .values({ provider, value, organization_id: organizationId })
      .onConflict((oc) => oc.columns(['provider', 'value']).doNothing())
      .returning('value')
      .executeTakeFirst();
    if (!bound) {
      const what = provider === 'microsoft' ? 'Microsoft tenant' : 'Google Workspace domain';
      throw new OrganizationInputError(`${what} ${value} is already bound to another organization`);
    }
  }
}
