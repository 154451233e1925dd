import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';

/**
 * Deletes every oidc-provider row of the account: sessions (signed out), grants, authorization
 * codes, access and refresh tokens (revoked). oidc-provider keeps no in-memory copy of these, so
 * the next request that presents one finds nothing. Rows tied to one of the account's grants are
 * deleted too, whatever their account column says.
 */
export async function revokeEverything(db: Kysely<Database>, accountId: string): Promise<number> {
  const result = await db
    .deleteFrom('oidc_models')
    .where((eb) =>
      eb.or([
        eb('account_id', '=', accountId),
        eb(
          'grant_id',
          'in',
          eb
            .selectFrom('oidc_models as g')
            .select('g.id')
            .where('g.model', '=', 'Grant')
            .where('g.account_id', '=', accountId),
        ),
      ]),
    )
    .where('model', '!=', 'Interaction')
    .executeTakeFirst();
  // A sign-in still open for the account (a reset started from it, with prompt=login in a browser
  // that had a session) was bound to a session and grant deleted above: unbound, it goes on in
  // the browser that owns it (its interaction cookie) instead of ending in "session not found".
  await sql`
    update oidc_models set payload = payload - 'session' - 'grantId'
    where model = 'Interaction' and payload -> 'session' ->> 'accountId' = ${accountId}`.execute(db);
  return Number(result.numDeletedRows);
}
