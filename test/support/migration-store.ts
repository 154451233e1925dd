import type { ExecutionContext } from 'ava';
import type { Migrator } from 'kysely';
import { createMigrator, openStorage, type Storage } from '../../src/storage/database.ts';
import { createTestStore, type StoreKind } from './stores.ts';

/**
 * A store of its own for a migration's test, with the migrator to move it up and down: the test
 * migrates it to the version before the migration, writes what that version held, then migrates
 * up. Closed and removed when the test ends.
 */
export async function storeForMigrations(
  t: ExecutionContext,
  kind: StoreKind,
): Promise<{ db: Storage['db']; migrator: Migrator }> {
  const store = await createTestStore(kind);
  const storage = await openStorage({ databaseUrl: store.databaseUrl, dataDir: store.dataDir, role: 'server' });
  t.teardown(async () => {
    await storage.close();
    await store.cleanup();
  });
  return { db: storage.db, migrator: await createMigrator(storage.db) };
}
