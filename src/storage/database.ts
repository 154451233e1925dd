import fs from 'node:fs';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { SOCKET_PORT, socketPath } from './embedded-socket.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';
import type { Storage, StorageOptions } from './storage.ts';

export type { Storage, StorageOptions } from './storage.ts';

/** Milliseconds to wait for a PostgreSQL connection (a refused one fails at once, with a 503; this bounds a silent network). */
const CONNECT_TIMEOUT_MS = 10_000;
/** A statement whose answer does not come in this long fails (a database gone silent, not one that refused). */
const QUERY_TIMEOUT_MS = 15_000;

export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if (options.role === 'cli') {
    const shared = await connectToRunningServer(options.dataDir);
    if (shared) return shared;
  }
  // Loaded only here: PGlite and its socket server cost several MB of RSS a server on PostgreSQL never needs.
  const { openPGlite } = await import('./pglite-storage.ts');
  return openPGlite(options);
}

async function openPostgres(connectionString: string, options: StorageOptions): Promise<Storage> {
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    keepAlive: true,
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  // A client checked out of the pool (a query or transaction under way) that loses its connection
  // (PostgreSQL restarted, pg_terminate_backend, a proxy) emits 'error' on itself, and the pool only
  // listens while a client is idle: without this listener that event ends the process. Its query
  // rejects anyway, so the request fails alone, and the pool discards the client when it is released.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    connectionString,
    poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => db.destroy(),
  };
}

async function connectToRunningServer(dataDir: string): Promise<Storage | undefined> {
  if (!fs.existsSync(socketPath(dataDir))) return undefined;
  const settings = { host: dataDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' };
  const probe = new pg.Client(settings);
  try {
    await probe.connect();
    await probe.end();
  } catch {
    return undefined; // a stale socket file: no server is running
  }
  const pool = new pg.Pool({ ...settings, max: 1 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

/** A migrator over Umbral's migrations, keeping its bookkeeping in the connection's current schema. */
export async function createMigrator(db: Kysely<Database>): Promise<Migrator> {
  // Named explicitly: without it Kysely takes a migration table in any schema for ours.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]!.schema;
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'umbral_migrations',
    migrationLockTableName: 'umbral_migrations_lock',
    migrationTableSchema: schema,
  });
}

/** Applies pending migrations; returns the names applied now. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = await createMigrator(db);
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
