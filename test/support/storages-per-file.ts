import type { TestFn } from 'ava';
import type { Storage } from '../../src/storage/database.ts';
import { emptyStore } from './empty-store.ts';
import { createTestStore, openTestStorage, type StoreKind } from './stores.ts';

/**
 * Storage without a server, for tests of domain code: one migrated store per kind for the test
 * file, opened by the first test that asks and closed after the file, and emptied for each test.
 * Only for test.serial tests.
 */
export function storagesPerFile(test: TestFn): (kind: StoreKind) => Promise<Storage> {
  const storages = new Map<StoreKind, Promise<{ storage: Storage; cleanup(): Promise<void> }>>();
  test.after.always(async () => {
    for (const opened of storages.values()) {
      const { storage, cleanup } = await opened;
      await storage.close();
      await cleanup();
    }
  });
  return async (kind) => {
    let opened = storages.get(kind);
    if (!opened) {
      opened = createTestStore(kind).then(async (store) => ({
        storage: await openTestStorage(store),
        cleanup: store.cleanup,
      }));
      storages.set(kind, opened);
    }
    const { storage } = await opened;
    await emptyStore(storage.db);
    return storage;
  };
}
