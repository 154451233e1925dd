import path from 'node:path';

/** The port in the socket's name: PostgreSQL clients look for `.s.PGSQL.<port>` in the host directory. */
export const SOCKET_PORT = 5432;

/** Where the server shares its embedded database with `umbral …` commands (src/storage/pglite-storage.ts). */
export function socketPath(dataDir: string): string {
  return path.join(dataDir, `.s.PGSQL.${SOCKET_PORT}`);
}
