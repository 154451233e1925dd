import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { isDomainName, isProviderName, type ProviderName } from './federation-settings.ts';

export class DomainRouteInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DomainRouteInputError';
  }
}

export interface DomainRoute {
  domain: string;
  provider: ProviderName;
  created_at: Date;
}

/** Lower-case, without a trailing dot; IDNs must be given in their ASCII (xn--) form. */
export function normalizeDomain(value: string): string {
  return value.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * Home-realm discovery: which email domains sign in at which provider (`umbral domains …`).
 * Only the exact domain matches: sub.acme.com is not routed by acme.com.
 */
export class DomainRoutes {
  constructor(private readonly db: Kysely<Database>) {}

  /** The provider for this email's domain, if it is routed. */
  async forEmail(email: string): Promise<ProviderName | undefined> {
    const at = email.lastIndexOf('@');
    if (at < 0) return undefined;
    const row = await this.db
      .selectFrom('domain_routes')
      .select('provider')
      .where('domain', '=', normalizeDomain(email.slice(at + 1)))
      .executeTakeFirst();
    return row && isProviderName(row.provider) ? row.provider : undefined;
  }

  async add(domain: string, provider: string): Promise<DomainRoute> {
    const normalized = normalizeDomain(domain);
    if (!isDomainName(normalized)) throw new DomainRouteInputError(`"${domain}" is not a domain name (e.g. acme.com)`);
    if (!isProviderName(provider))
      throw new DomainRouteInputError(`--provider must be google or microsoft, not "${provider}"`);
    const row = await this.db
      .insertInto('domain_routes')
      .values({ domain: normalized, provider })
      .onConflict((oc) => oc.column('domain').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      const existing = await this.db
        .selectFrom('domain_routes')
        .select('provider')
        .where('domain', '=', normalized)
        .executeTakeFirst();
      throw new DomainRouteInputError(
        `${normalized} is already routed to ${existing?.provider ?? 'a provider'}; remove it first`,
      );
    }
    return row as DomainRoute;
  }

  async remove(domain: string): Promise<void> {
    const normalized = normalizeDomain(domain);
    const result = await this.db.deleteFrom('domain_routes').where('domain', '=', normalized).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new DomainRouteInputError(`${normalized} is not routed`);
  }

  async list(): Promise<DomainRoute[]> {
    return (await this.db.selectFrom('domain_routes').selectAll().orderBy('domain').execute()) as DomainRoute[];
  }
}
