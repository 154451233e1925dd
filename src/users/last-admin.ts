import { type Kysely, sql, type Transaction } from 'kysely';
import { organizationStatus } from '../organizations/organization-status.ts';
import { ADMIN_ROLE } from '../organizations/roles.ts';
import type { Database } from '../storage/schema.ts';

/**
 * The active organizations whose only admin member is `userId`: removing that user would leave
 * them with none, which memberships.ts refuses for a single membership too. Inside a transaction
 * the organizations are locked, so two removals cannot each remove "another" admin.
 */
export async function organizationsLeftWithoutAdmin(
  db: Kysely<Database> | Transaction<Database>,
  userId: string,
  now: Date,
  lock = false,
): Promise<Array<{ id: string; name: string }>> {
  let query = db
    .selectFrom('organizations as o')
    .innerJoin('organization_memberships as m', 'm.organization_id', 'o.id')
    .select(['o.id', 'o.name', 'o.activates_at', 'o.ends_at', 'o.suspended_at'])
    .where('m.user_id', '=', userId)
    .where('m.removed_at', 'is', null)
    .where(sql<boolean>`m.roles @> ${JSON.stringify([ADMIN_ROLE])}::jsonb`)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('organization_memberships as other')
            .select('other.user_id')
            .whereRef('other.organization_id', '=', 'o.id')
            .where('other.user_id', '!=', userId)
            .where('other.removed_at', 'is', null)
            .where(sql<boolean>`other.roles @> ${JSON.stringify([ADMIN_ROLE])}::jsonb`),
        ),
      ),
    )
    .orderBy('o.name');
  if (lock) query = query.forUpdate('o');
  const rows = await query.execute();
  return rows.filter((org) => organizationStatus(org, now) === 'active').map(({ id, name }) => ({ id, name }));
}
