import { type Kysely, sql } from 'kysely';

/**
 * A rotated refresh token keeps the token response its rotation produced, sealed with the
 * SecretBox, so a concurrent or repeated use within the reuse grace gets that same response
 * (src/provider/refresh-rotations.ts). Cleared once the grace is over.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table oidc_models add column rotation_response text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table oidc_models drop column rotation_response`.execute(db);
}
