import type Provider from 'oidc-provider';
import { type Config, ConfigError, loadConfig } from '../config/config.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Storage } from '../storage/database.ts';
import { CliInputError } from './cli-errors.ts';

/** What a command that touches the database gets: configuration, migrated storage and, on demand, a provider. */
export interface CliContext {
  config: Config;
  storage: Storage;
  /** The embedded database is reached through a running server's socket (see openStorage). */
  viaRunningServer: boolean;
  /** Migrations applied while opening, in order; usually none. */
  appliedMigrations: string[];
  /** Built on first call: loading oidc-provider costs time only `clients add` needs to spend. */
  provider(): Promise<Provider>;
  /** Seals and opens secrets at rest with the server's SECRET_ENCRYPTION_KEY (or its development key). */
  secretBox(): Promise<SecretBox>;
}

/**
 * Runs `work` against the same database the server uses, configured from the same environment.
 * Storage is always closed afterwards: for PGlite that releases the DATA_DIR lock.
 */
export async function withCliContext<T>(env: NodeJS.ProcessEnv, work: (context: CliContext) => Promise<T>): Promise<T> {
  const config = loadCliConfig(env);
  // Loaded here, not at the top: PGlite and pg take a second to load, and a command rejected
  // before it needs the database (bad option, bad environment) should not wait for them.
  const { openStorage, migrateToLatest } = await import('../storage/database.ts');
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    role: 'cli',
    poolSize: 2,
  });
  try {
    // Only the embedded database is ever reached as 'postgres' without DATABASE_URL: through the socket.
    const viaRunningServer = config.databaseUrl === undefined && storage.kind === 'postgres';
    // That server migrated at start. Migrating over its socket would open a transaction on the single
    // PGlite session the server's own queries share, so they could end up inside it.
    const appliedMigrations = viaRunningServer ? [] : await migrateToLatest(storage.db);
    let provider: Promise<Provider> | undefined;
    return await work({
      config,
      storage,
      viaRunningServer,
      appliedMigrations,
      provider: () => (provider ??= buildProvider(config, storage)),
      secretBox: () => loadSecretBox(config),
    });
  } finally {
    await storage.close();
  }
}

function loadCliConfig(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliInputError(`invalid configuration: ${error.message}`);
    throw error;
  }
}

async function loadSecretBox(config: Config): Promise<SecretBox> {
  const [{ SecretBox }, { loadSecretEncryptionKey }, { createLogger }] = await Promise.all([
    import('../crypto/secret-box.ts'),
    import('../crypto/secret-key.ts'),
    import('../logging/logger.ts'),
  ]);
  // Silent: stdout carries JSON; the server already warns about a development key.
  return new SecretBox(loadSecretEncryptionKey(config, createLogger('silent')));
}

async function buildProvider(config: Config, storage: Storage): Promise<Provider> {
  const [{ createProvider }, { PageRenderer }, { createLogger }, secretBox] = await Promise.all([
    import('../provider/create-provider.ts'),
    import('../http/page-renderer.ts'),
    import('../logging/logger.ts'),
    loadSecretBox(config),
  ]);
  return createProvider({
    secretBox,
    config,
    storage,
    pages: new PageRenderer({ productName: config.productName, logoUrl: config.logoUrl, support: config.support }),
    // The CLI serves no requests, so the provider's event logs never fire; and stdout carries JSON.
    logger: createLogger('silent'),
  });
}
