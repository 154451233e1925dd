import { type Kysely, sql, type Transaction } from 'kysely';
import { DEFAULT_LOCALE, type Locale, preferredLocale } from '../i18n/i18n.ts';
import type { Database } from '../storage/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The permission of the console's admins (the built-in `admin` role has it). */
export const MANAGE_PERMISSION = 'org:manage';

export interface OrganizationAdmin {
  userId: string;
  email: string;
  name: string | null;
  /** Their account's language, else Spanish: the language of what they are mailed. */
  locale: Locale;
}

/**
 * Who receives an organization's communications: its current members holding a role with
 * `org:manage` (the built-in `admin`, or an operator's role given it), accounts not disabled,
 * by email.
 */
export async function organizationAdmins(db: Db, organizationId: string): Promise<OrganizationAdmin[]> {
  const rows = await db
    .selectFrom('organization_memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email', 'u.name', 'u.locale'])
    .where('m.organization_id', '=', organizationId)
    .where('m.removed_at', 'is', null)
    .where('u.disabled', '=', false)
    .where(
      sql<boolean>`exists (
        select 1 from roles r
        where m.roles ? r.name and r.permissions @> ${JSON.stringify([MANAGE_PERMISSION])}::jsonb)`,
    )
    .orderBy('u.email')
    .execute();
  return rows.map((row) => ({
    userId: row.id,
    email: row.email,
    name: row.name,
    locale: preferredLocale(row.locale, DEFAULT_LOCALE),
  }));
}

/** The name people know a portal by: its client_name, else the product's. Read as stored. */
export async function portalName(db: Db, clientId: string | null, productName: string): Promise<string> {
  if (!clientId) return productName;
  const client = await db.selectFrom('clients').select('metadata').where('client_id', '=', clientId).executeTakeFirst();
  const name = (client?.metadata as { client_name?: unknown } | undefined)?.client_name;
  return typeof name === 'string' && name ? name : productName;
}
