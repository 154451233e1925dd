import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import type { OrganizationFields } from './organization-input.ts';
import { OrganizationRefusal } from './organization-refusal.ts';
import type { Organization, OrganizationRepository } from './organizations.ts';
import { formatTaxId, taxIdName } from './tax-ids.ts';

/**
 * What the organization administration checks before it writes anything (so a refusal leaves
 * everything as it was), each refusal naming its field. The repositories check again inside
 * their transactions; these give the operator the clearer reason first.
 */

/** The designated admins' addresses: each valid, once (case aside). */
export function parseAdmins(values: readonly string[]): string[] {
  const admins = new Map<string, string>();
  for (const value of values) {
    const email = normalizeEmail(value);
    if (!isValidEmail(email)) {
      throw new OrganizationRefusal(`"${value}" is not a valid email address`, 'admins', 'malformed_email');
    }
    if (!admins.has(email.toLowerCase())) admins.set(email.toLowerCase(), email);
  }
  return [...admins.values()];
}

/** A contract that would end before now is refused: suspending stops a company at once. */
export function assertEndsInFuture(endsAt: Date | null | undefined, now: Date): void {
  if (endsAt && endsAt <= now) {
    throw new OrganizationRefusal(
      `the contract's end ${endsAt.toISOString()} is in the past: to stop an organization now, suspend it`,
      'ends_at',
      'ends_in_past',
    );
  }
}

/** One tax id, one company: the operator is told which company has it. */
export async function assertTaxIdFree(
  orgs: OrganizationRepository,
  country: string | null,
  taxId: string | null | undefined,
  ownId: string | undefined,
): Promise<void> {
  if (!country || !taxId) return;
  const holder = await orgs.withTaxId(country, taxId);
  if (holder && holder.row.id !== ownId) {
    throw new OrganizationRefusal(
      `${taxIdName(country) ?? 'tax id'} ${formatTaxId(country, taxId)} is already registered to ${holder.row.name} (${holder.row.slug}): one tax id, one company`,
      'tax_id',
      'tax_id_taken',
      true,
    );
  }
}

export async function assertSlugFree(orgs: OrganizationRepository, slug: string, ownId: string | undefined) {
  const holder = await orgs.find(slug);
  if (holder && holder.row.id !== ownId) {
    throw new OrganizationRefusal(`an organization with slug "${slug}" already exists`, 'slug', 'slug_taken', true);
  }
}

/** The home portal is a registered client. */
export async function assertClientExists(db: Kysely<Database>, clientId: string): Promise<void> {
  const client = await db
    .selectFrom('clients')
    .select('client_id')
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (!client) {
    throw new OrganizationRefusal(
      `no client with id ${clientId} (see umbral clients list)`,
      'home_client_id',
      'unknown_client',
    );
  }
}

/** A Microsoft tenant or Google Workspace domain joins one organization only. */
export async function assertUnbound(orgs: OrganizationRepository, fields: OrganizationFields, own?: Organization) {
  for (const [provider, field, values] of [
    ['microsoft', 'microsoft_tenants', fields.microsoftTenants ?? []],
    ['google', 'google_domains', fields.googleDomains ?? []],
  ] as const) {
    for (const value of values) {
      const bound = await orgs.boundTo(provider, value);
      if (bound && bound.row.id !== own?.row.id) {
        const what = provider === 'microsoft' ? 'Microsoft tenant' : 'Google Workspace domain';
        throw new OrganizationRefusal(
          `${what} ${value} is already bound to another organization (${bound.row.slug})`,
          field,
          'already_bound',
          true,
        );
      }
    }
  }
}
