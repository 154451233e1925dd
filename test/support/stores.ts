import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { migrateToLatest, openStorage, type Storage } from '../../src/storage/database.ts';
import { pgliteTemplate, postgresTemplate } from './store-templates.ts';

export type StoreKind = 'pglite' | 'postgres';

/** Every storage test runs on PGlite, and on PostgreSQL too when DATABASE_URL is set (as in CI). */
export const STORES: StoreKind[] = process.env['DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];

/**
 * HTTP journeys run once, on the store CI runs (PostgreSQL when DATABASE_URL is set; PGlite
 * without it, as on a developer's machine): what they test is the protocol and the pages. The
 * storage under them (repositories, migrations, the oidc-provider adapter, counters and lockouts,
 * refresh rotation, schedulers and their locks, the mail and webhook queues, the CLI and the
 * services it shares with the consoles and the Admin API) runs on both stores in its own tests.
 * One store for the journeys keeps the suite near its four-minute goal on two cores (it is over
 * it on slower machines: README, "Tests"); `npm test` without DATABASE_URL still runs every
 * journey on PGlite.
 */
export const JOURNEY_STORES: StoreKind[] = process.env['DATABASE_URL'] ? ['postgres'] : ['pglite'];

/**
 * The operator commands beyond the core ones run once too, on CI's store: the SQL they run is the
 * same on both, and what differs between the stores under the CLI (opening the embedded database,
 * reaching a running server's PGlite through its socket, migrating) is covered on both by the core
 * commands' tests (test/cli/clients, users, keys-and-migrate) and by the storage tests.
 */
export const COMMAND_STORES: StoreKind[] = JOURNEY_STORES;

/**
 * Browser journeys run once too: what they add over the HTTP tests is the browser. The passkey
 * journey's storage (the key's bytes, transports, the signature counter) runs on both stores in
 * test/mfa/passkey-storage.test.ts.
 */
export const BROWSER_STORES: StoreKind[] = JOURNEY_STORES;

export interface TestStore {
  kind: StoreKind;
  dataDir: string;
  /** PostgreSQL: the database private to this test. */
  databaseUrl: string | undefined;
  /** Environment that points a server or the CLI at this store. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * A store of its own for one test (or one test file), copied from a migrated template; with
 * `migrated: false` an empty one, for tests of migrating itself.
 */
export async function createTestStore(kind: StoreKind, options: { migrated?: boolean } = {}): Promise<TestStore> {
  const migrated = options.migrated ?? true;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-'));
  if (kind === 'pglite') {
    if (migrated) {
      fs.cpSync(path.join(await pgliteTemplate(), 'pglite'), path.join(dataDir, 'pglite'), { recursive: true });
    }
    return {
      kind,
      dataDir,
      databaseUrl: undefined,
      env: { DATA_DIR: dataDir },
      async cleanup() {
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  // A database of its own per test, not a schema: Kysely's migrator lists the tables of the whole
  // database, and that listing fails when another test drops its schema at the same moment.
  const adminUrl = process.env['DATABASE_URL']!;
  const name = `umbral_t_${randomBytes(6).toString('hex')}`;
  const template = migrated ? ` template ${await postgresTemplate(adminUrl)}` : '';
  await withAdmin(adminUrl, async (client) => {
    // FILE_COPY (PostgreSQL 15+) copies the template's files, instead of writing every page
    // through the WAL as the default does: a quarter of the server's CPU per test database.
    await client.query(`create database ${name}${template}${migrated ? ' strategy file_copy' : ''}`);
    // A test's database needs no durability: commits don't wait for the WAL flush (wall time, not CPU).
    await client.query(`alter database ${name} set synchronous_commit = off`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    kind,
    dataDir,
    databaseUrl,
    env: { DATA_DIR: dataDir, DATABASE_URL: databaseUrl },
    async cleanup() {
      await withAdmin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function withAdmin(url: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/** Opens and migrates a test store, as the server would. */
export async function openTestStorage(store: TestStore): Promise<Storage> {
  const storage = await openStorage({
    databaseUrl: store.databaseUrl,
    dataDir: store.dataDir,
    role: 'server',
  });
  try {
    await migrateToLatest(storage.db);
  } catch (error) {
    await storage.close(); // else the PGlite lock keeps the test process alive
    throw error;
  }
  return storage;
}

/**
 * A migrated store of `kind`, opened for one test and closed and removed when it ends: the
 * create-open-teardown lines many storage tests still spell out themselves.
 */
export async function storageForTest(t: ExecutionContext, kind: StoreKind): Promise<Storage> {
  const store = await createTestStore(kind);
  const storage = await openTestStorage(store);
  t.teardown(async () => {
    await storage.close();
    await store.cleanup();
  });
  return storage;
}

export function testConfig(store: TestStore, env: Record<string, string> = {}): Config {
  return loadConfig({
    LOG_LEVEL: 'silent',
    ...env,
    DATA_DIR: store.dataDir,
    ...(store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : {}),
  });
}
