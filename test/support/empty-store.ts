import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/storage/schema.ts';
import type { RunningUmbral } from './umbral-server.ts';

/**
 * Kept across tests that share a server: the schema's own bookkeeping, the keys the running server
 * loaded at start, and registered clients (oidc-provider caches their metadata for a few seconds,
 * so a world registers its clients once).
 */
const KEPT = new Set([
  'umbral_migrations',
  'umbral_migrations_lock',
  'signing_keys',
  'cookie_keys',
  'clients',
  'roles',
]);

/** Deletes everything earlier tests made (users, sessions, mail, throttle counters…), as a fresh store would have none. */
export async function emptyStore(db: Kysely<Database>): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select tablename as name from pg_tables where schemaname = current_schema()
  `.execute(db);
  const tables = rows.map((r) => r.name).filter((name) => !KEPT.has(name));
  // One statement: tables that reference each other are emptied together.
  if (tables.length) await sql.raw(`truncate ${tables.map((name) => `"${name}"`).join(', ')}`).execute(db);
  // The built-in roles come from a migration, as in a fresh store; operators' roles go.
  await db.deleteFrom('roles').where('built_in', '=', false).execute();
}

/** Lets what an earlier test set going finish (mail, back-channel logouts), then empties the store under the server. */
export async function resetServer(server: RunningUmbral): Promise<void> {
  await server.umbral.mailer.drain();
  await server.umbral.terminator.settled();
  await emptyStore(server.umbral.storage.db);
}
