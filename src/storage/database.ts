import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { DataDirLock } from './data-dir-lock.ts';
import { migrations } from './migrations/index.ts';
import { PGlitePool } from './pglite-pool.ts';
import type { Database } from './schema.ts';

export interface StorageOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /**
   * The server owns an embedded database and shares it with the CLI over a Unix socket in
   * DATA_DIR; the CLI uses that socket when a server is running, else opens the files itself.
   */
  role: 'server' | 'cli';
  poolSize?: number;
}

export interface Storage {
  db: Kysely<Database>;
  /** What backs `db`: a PostgreSQL server (including the embedded one over its socket) or PGlite in-process. */
  kind: 'postgres' | 'pglite';
  /** The pool's connections (PostgreSQL only), for /metrics. */
  poolUse?: () => { total: number; idle: number; waiting: number };
  /** A PostgreSQL connection string, for what needs a connection of its own (LISTEN); none on PGlite. */
  connectionString?: string;
  /** In-process notices (PGlite): what a PostgreSQL node hears with LISTEN (src/storage/change-notices.ts). */
  listen?: (channel: string, onPayload: (payload: string) => void) => Promise<{ stop(): Promise<void> }>;
  close(): Promise<void>;
}

/** Milliseconds to wait for a PostgreSQL connection (a refused one fails at once, with a 503; this bounds a silent network). */
const CONNECT_TIMEOUT_MS = 10_000;
/** A statement whose answer does not come in this long fails (a database gone silent, not one that refused). */
const QUERY_TIMEOUT_MS = 15_000;

const SOCKET_PORT = 5432;

export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if (options.role === 'cli') {
    const shared = await connectToRunningServer(options.dataDir);
    if (shared) return shared;
  }
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

async function openPGlite(options: StorageOptions): Promise<Storage> {
  const lock = DataDirLock.acquire(options.dataDir);
  let pglite: PGlite | undefined;
  let socketServer: PGLiteSocketServer | undefined;
  try {
    pglite = await PGlite.create(path.join(options.dataDir, 'pglite'));
    if (options.role === 'server') socketServer = await shareOverSocket(pglite, options.dataDir);
  } catch (error) {
    await pglite?.close().catch(() => {});
    lock.release();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
  return {
    db,
    kind: 'pglite',
    async listen(channel, onPayload) {
      const unlisten = await pglite.listen(channel, onPayload);
      return { stop: () => unlisten().catch(() => {}) };
    },
    async close() {
      await socketServer?.stop();
      await db.destroy();
      await pglite.close();
      lock.release();
    },
  };
}

function socketPath(dataDir: string): string {
  return path.join(dataDir, `.s.PGSQL.${SOCKET_PORT}`);
}

/** Lets `umbral …` commands reach the embedded database while the server holds it. */
async function shareOverSocket(pglite: PGlite, dataDir: string): Promise<PGLiteSocketServer | undefined> {
  const file = socketPath(dataDir);
  // Unix socket paths are limited to ~107 bytes; without the socket the CLI simply needs the server stopped.
  if (Buffer.byteLength(file) > 100) return undefined;
  fs.rmSync(file, { force: true });
  const server = new PGLiteSocketServer({ db: pglite, path: file, maxConnections: 4 });
  await server.start();
  fs.chmodSync(file, 0o600);
  return server;
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
