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

/** Each store's tables in deletion order, found once per store (the schema does not change under a test). */
const orders = new WeakMap<Kysely<Database>, Promise<string[]>>();

/**
 * The tables to empty, every referencing table before the tables it references. DELETE, not
 * TRUNCATE: a TRUNCATE of forty tables gives each table and index a new file, and took about half
 * a second of PostgreSQL's time per call in the suite; deleting a test's few rows takes
 * milliseconds, on PGlite too.
 */
async function deletionOrder(db: Kysely<Database>): Promise<string[]> {
  const { rows: tables } = await sql<{ name: string }>`
    select tablename as name from pg_tables where schemaname = current_schema()
  `.execute(db);
  const { rows: references } = await sql<{ child: string; parent: string }>`
    select child.relname as child, parent.relname as parent
    from pg_constraint c
    join pg_class child on child.oid = c.conrelid
    join pg_class parent on parent.oid = c.confrelid
    where c.contype = 'f' and child.relnamespace = current_schema()::regnamespace
  `.execute(db);
  const left = new Set(tables.map((t) => t.name).filter((name) => !KEPT.has(name)));
  const order: string[] = [];
  while (left.size) {
    // A table goes once no table still to be emptied references it (a reference to itself aside).
    const free = [...left].filter(
      (name) => !references.some((r) => r.parent === name && r.child !== name && left.has(r.child)),
    );
    if (!free.length) throw new Error(`emptyStore: the references among ${[...left].join(', ')} form a cycle`);
    for (const name of free.sort()) {
      order.push(name);
      left.delete(name);
    }
  }
  return order;
}

/** Deletes everything earlier tests made (users, sessions, mail, throttle counters…), as a fresh store would have none. */
export async function emptyStore(db: Kysely<Database>): Promise<void> {
  let order = orders.get(db);
  if (!order) {
    order = deletionOrder(db);
    orders.set(db, order);
  }
  const tables = await order;
  await db.transaction().execute(async (trx) => {
    for (const name of tables) await sql.raw(`delete from "${name}"`).execute(trx);
    // The built-in roles come from a migration, as in a fresh store; operators' roles go.
    await trx.deleteFrom('roles').where('built_in', '=', false).execute();
  });
}

/** Lets what an earlier test set going finish (mail, back-channel logouts), then empties the store under the server. */
export async function resetServer(server: RunningUmbral): Promise<void> {
  await server.umbral.mailer.drain();
  await server.umbral.terminator.settled();
  await emptyStore(server.umbral.storage.db);
}
