import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Kysely, PostgresDialect } from 'kysely';
import { DataDirLock } from './data-dir-lock.ts';
import { socketPath } from './embedded-socket.ts';
import { PGlitePool } from './pglite-pool.ts';
import type { Database } from './schema.ts';
import type { Storage, StorageOptions } from './storage.ts';

/**
 * PostgreSQL's default 128 MB of shared buffers lives in PGlite's WebAssembly memory, all of it
 * touched at start: 135 MB of RSS for one process's cache of a database that is a few MB, whose
 * files the kernel caches anyway. 32 MB: RSS of a bare PGlite 313 → 211 MB, and every start in
 * the test suite zeroes a quarter as much.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

/**
 * The embedded database (PGlite in DATA_DIR), shared with the CLI over a Unix socket. Loaded by
 * openStorage only when DATABASE_URL is unset: PGlite and its socket server cost several MB of RSS
 * that a server on PostgreSQL never needs.
 */
export async function openPGlite(options: StorageOptions): Promise<Storage> {
  const lock = DataDirLock.acquire(options.dataDir);
  let pglite: PGlite | undefined;
  let socketServer: PGLiteSocketServer | undefined;
  try {
    pglite = await PGlite.create(path.join(options.dataDir, 'pglite'), { startParams: START_PARAMS });
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
