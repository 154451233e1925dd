/** What openStorage (src/storage/database.ts) opens: PostgreSQL, or PGlite (src/storage/pglite-storage.ts). */
import type { Kysely } from 'kysely';
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
