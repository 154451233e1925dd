import { type Kysely, sql } from 'kysely';
import { lookupsByKey } from '../storage/batched-lookups.ts';
import type { ReadAheadCompanion, ReadAheadTaker } from '../storage/oidc-model-rows.ts';
import type { Database } from '../storage/schema.ts';
import { jsonbObjectOf } from '../storage/sql-placeholders.ts';

interface GrantRow {
  grant_id: string;
  organization_id: string | null;
  account_id: string;
  client_id: string;
}

const GRANT_COLUMNS = [
  'grant_id',
  'organization_id',
  'account_id',
  'client_id',
] as const satisfies readonly (keyof GrantRow)[];
const GRANTS_BY_ID = `select ${GRANT_COLUMNS.join(', ')} from organization_grants where grant_id in`;

/**
 * Each token's grant's organization, read in the same statement as the token (a refresh, a code
 * exchange, userinfo: adapters/model-lookups.ts). One row per grant, its payload null when the
 * grant has no organization recorded, so that "none" is known without another read either.
 */
export const ORGANIZATION_GRANT_READ_AHEAD: ReadAheadCompanion = {
  model: 'OrganizationGrant',
  tokenField: 'grantId',
  select: (keys) =>
    `select 'OrganizationGrant', k.grant_id, null,
        (select ${jsonbObjectOf(GRANT_COLUMNS, 'g')} from organization_grants g where g.grant_id = k.grant_id),
        null::timestamptz
      from ${keys} as k(grant_id) where k.grant_id is not null`,
};

/** The organization one authorization (an oidc-provider grant: one session at one portal) is for. */
export interface OrganizationGrant {
  grantId: string;
  /** Null: for no organization (an optional portal, a person without one). */
  organizationId: string | null;
  accountId: string;
  clientId: string;
}

/**
 * Where the organization of each authorization is recorded: keyed by the grant, which every
 * code, access token and refresh token of that session at that portal names. A grant's
 * organization (or that it has none) is written once, when its first authorization at a portal
 * that deals with organizations succeeds, and never changed: switching organization replaces the grant (`revoke` the old one with its tokens),
 * so a token issued for one organization never starts speaking for another.
 */
export class OrganizationGrants {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly readAhead?: ReadAheadTaker,
  ) {}

  /** What a token's read-ahead did not bring (sign-ins, revocations): concurrent reads go together. */
  readonly #byId = lookupsByKey<GrantRow>(
    () => this.db,
    GRANTS_BY_ID,
    (row) => row.grant_id,
  );

  async find(grantId: string): Promise<OrganizationGrant | undefined> {
    const ahead = this.readAhead?.(ORGANIZATION_GRANT_READ_AHEAD.model, grantId);
    const row = ahead ? ((ahead.payload as GrantRow | null) ?? undefined) : await this.#byId.find(grantId);
    return row
      ? {
          grantId: row.grant_id,
          organizationId: row.organization_id,
          accountId: row.account_id,
          clientId: row.client_id,
        }
      : undefined;
  }

  /** Records the grant's organization; a grant already recorded keeps the one it has. */
  async bind(grant: OrganizationGrant & { expiresAt: Date }): Promise<void> {
    await this.db
      .insertInto('organization_grants')
      .values({
        grant_id: grant.grantId,
        organization_id: grant.organizationId,
        account_id: grant.accountId,
        client_id: grant.clientId,
        expires_at: grant.expiresAt,
      })
      .onConflict((oc) => oc.column('grant_id').doNothing())
      .execute();
  }

  /** Removes the grant with its codes and tokens (they all carry its id), and its organization. */
  async revoke(grantId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('oidc_models')
        .where((eb) =>
          eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]),
        )
        .execute();
      await trx.deleteFrom('organization_grants').where('grant_id', '=', grantId).execute();
    });
  }

  /** The grants of an organization's members (e.g. to end them when the organization ends). */
  async grantIdsOf(organizationId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('organization_grants')
      .select('grant_id')
      .where('organization_id', '=', organizationId)
      .execute();
    return rows.map((row) => row.grant_id);
  }

  async purgeExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('organization_grants')
      .where('expires_at', '<', sql<Date>`now()`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
