import { spawn } from 'node:child_process';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { TestFn } from 'ava';
import type { Kysely } from 'kysely';
import { main } from '../../src/cli/command-line.ts';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';
import { openStorage } from '../../src/storage/database.ts';
import type { Database } from '../../src/storage/schema.ts';
import { usePooledSigningKeys } from '../support/signing-key-pool.ts';
import { createTestStore, STORES, type StoreKind, type TestStore } from '../support/stores.ts';

const REPO = PROJECT_ROOT;
const BIN = path.join(REPO, 'bin/umbral.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a run, built from scratch so the test runner's own DATABASE_URL never leaks into a PGlite run. */
function cliEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    LOG_LEVEL: 'silent',
    ...env,
  };
}

/**
 * Runs `umbral …` in this process, as the launcher would (src/cli/main.ts) but with its own
 * environment and streams: no process to start, and the modules stay loaded between runs.
 */
export async function runUmbral(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  usePooledSigningKeys();
  let stdout = '';
  let stderr = '';
  const code = await main(args, cliEnv(options.env), {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from(options.stdin ? [options.stdin] : []),
  });
  return { code, stdout, stderr };
}

/** Runs the real `umbral` launcher in a child process, as an operator would. */
export function spawnUmbral(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: cliEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Opens the store in the test process (the CLI must have released it) and closes it afterwards.
 * No migrating here: the CLI has done that, and this process may hold an older migration list.
 */
export async function inStore<T>(store: TestStore, read: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const storage = await openStorage({
    databaseUrl: store.databaseUrl,
    dataDir: store.dataDir,
    role: 'cli',
  });
  try {
    return await read(storage.db);
  } finally {
    await storage.close();
  }
}

/** oidc-provider warns on stderr about Node 20 when it loads; anything else there is ours. */
export function ownStderr(result: CliResult): string {
  return result.stderr
    .split('\n')
    .filter((line) => !line.startsWith('oidc-provider WARNING'))
    .join('\n');
}

/**
 * One store per kind for a CLI test file, made before its tests and removed after them, so the
 * file's serial tests share it. The embedded store is held open as a running server holds it:
 * the CLI reaches it over the server's socket, as an operator's `umbral` does next to `npm start`,
 * instead of starting PGlite for every command (a second of CPU each). Opening DATA_DIR itself,
 * with no server, is tested by keys-and-migrate.test.ts and the spawned bin/umbral.js test.
 */
export function storesPerFile(test: TestFn): Map<StoreKind, TestStore> {
  const stores = new Map<StoreKind, TestStore>();
  const served: Array<{ close(): Promise<void> }> = [];
  test.before(async () => {
    for (const kind of STORES) {
      const store = await createTestStore(kind);
      stores.set(kind, store);
      if (kind === 'pglite') {
        served.push(await openStorage({ databaseUrl: undefined, dataDir: store.dataDir, role: 'server' }));
      }
    }
  });
  test.after.always(async () => {
    for (const storage of served) await storage.close();
    for (const store of stores.values()) await store.cleanup();
  });
  return stores;
}

/** The registered clients, by id, with their stored metadata. */
export async function storedClients(store: TestStore): Promise<Map<string, Record<string, unknown>>> {
  const rows = await inStore(store, (db) => db.selectFrom('clients').select(['client_id', 'metadata']).execute());
  return new Map(rows.map((r) => [r.client_id, r.metadata as Record<string, unknown>]));
}
