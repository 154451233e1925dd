import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { migrateToLatest, openStorage, type Storage } from '../../src/storage/database.ts';

export type StoreKind = 'pglite' | 'postgres';

/** Every storage test runs on PGlite, and on PostgreSQL too when DATABASE_URL is set (as in CI). */
export const STORES: StoreKind[] = process.env['DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];

export interface TestStore {
  kind: StoreKind;
  dataDir: string;
  /** PostgreSQL: the schema private to this test. */
  schema: string | undefined;
  databaseUrl: string | undefined;
  /** Environment that points a server or the CLI at this store. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

const migrationsDir = path.resolve(import.meta.dirname, '../../src/storage/migrations');

/**
 * A migrated PGlite data directory made once per machine and copied for each test:
 * creating PGlite from scratch takes seconds, copying takes milliseconds.
 */
async function pgliteTemplate(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(migrationsDir).sort()) hash.update(fs.readFileSync(path.join(migrationsDir, file)));
  const template = path.join(os.tmpdir(), `umbral-pglite-template-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(path.join(template, 'ready'))) return template;
  const building = `${template}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(building, { recursive: true });
  const db = await PGlite.create(path.join(building, 'pglite'));
  await db.close();
  fs.writeFileSync(path.join(building, 'ready'), '');
  try {
    fs.renameSync(building, template);
  } catch {
    fs.rmSync(building, { recursive: true, force: true }); // another process won the race
  }
  return template;
}

export async function createTestStore(kind: StoreKind): Promise<TestStore> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-'));
  if (kind === 'pglite') {
    fs.cpSync(path.join(await pgliteTemplate(), 'pglite'), path.join(dataDir, 'pglite'), { recursive: true });
    return {
      kind,
      dataDir,
      schema: undefined,
      databaseUrl: undefined,
      env: { DATA_DIR: dataDir },
      async cleanup() {
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const databaseUrl = process.env['DATABASE_URL']!;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    kind,
    dataDir,
    schema,
    databaseUrl,
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    async cleanup() {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens and migrates a test store, as the server would. */
export async function openTestStorage(store: TestStore): Promise<Storage> {
  const storage = await openStorage({
    databaseUrl: store.databaseUrl,
    dataDir: store.dataDir,
    role: 'server',
    ...(store.schema ? { schema: store.schema } : {}),
  });
  try {
    await migrateToLatest(storage.db);
  } catch (error) {
    await storage.close(); // else the PGlite lock keeps the test process alive
    throw error;
  }
  return storage;
}

export function testConfig(store: TestStore, env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', ...env, DATA_DIR: store.dataDir, ...(store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : {}) });
}
