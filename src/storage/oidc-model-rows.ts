import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import type { Database, OidcModelTable } from './schema.ts';

/** One row of oidc-provider's models (src/storage/schema.ts `oidc_models`), as written. */
export type OidcModelRow = Insertable<OidcModelTable>;

/* Written out once: building it with Kysely on each call showed in the token endpoint's CPU profile. */
const UPSERT_ROW = `insert into oidc_models (model, id, payload, grant_id, user_code, uid, account_id, expires_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8)
  on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
    user_code = excluded.user_code, uid = excluded.uid, account_id = excluded.account_id, expires_at = excluded.expires_at`;

/** Writes one model row, replacing the row of the same model and id. */
export async function writeModelRow(db: Kysely<Database>, row: OidcModelRow): Promise<void> {
  await db.executeQuery(
    CompiledQuery.raw(UPSERT_ROW, [
      row.model,
      row.id,
      row.payload,
      row.grant_id ?? null,
      row.user_code ?? null,
      row.uid ?? null,
      row.account_id ?? null,
      row.expires_at ?? null,
    ]),
  );
}
