import Provider from 'oidc-provider';
import { createAdapterClass, takeInitialAccessToken } from '../../adapters/postgres-adapter.ts';
import type { ClientCache } from '../clients/client-cache.ts';
import { clientSecretMatches } from '../clients/client-secret.ts';
import { previousSecretMatches } from '../clients/client-secret-rotation.ts';
import type { Config } from '../config/config.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import { FactorRepository } from '../mfa/factor-repository.ts';
import type { Storage } from '../storage/database.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../storage/database-unavailable.ts';
import type { ReadAheadCompanion, ReadAheadTaker } from '../storage/oidc-model-rows.ts';
import { createFindAccount } from '../users/user-claims.ts';
import { UserRepository } from '../users/users.ts';
import type { BatchedWrites } from './batched-writes.ts';
import { rememberClientInstances } from './client-instances.ts';
import { buildProviderConfiguration, type ProviderSettings } from './configuration.ts';
import { loadCookieSigner } from './cookie-keys.ts';
import { watchRegistrations } from './dynamic-registration.ts';
import { idempotentRefresh } from './idempotent-refresh.ts';
import { withPlainOidcContext } from './plain-oidc-context.ts';
import { REFRESH_TOKEN_REUSE_GRACE_SECONDS, type RefreshRotations } from './refresh-rotations.ts';
import { loadSigningKeys } from './signing-keys.ts';

/** Without a cache of its own (the CLI), client metadata is read each time. */
const NO_CLIENT_CACHE = 0;

/** The oidc-provider instance, configured from the database's keys and clients. */
export async function createProvider(options: {
  config: Config;
  storage: Storage;
  pages: PageRenderer;
  logger: Logger;
  /** Opens the sealed signing keys (SECRET_ENCRYPTION_KEY). */
  secretBox: SecretBox;
  /** Serving token requests: rotations committed once, repeats answered alike. The CLI serves none. */
  refreshRotations?: RefreshRotations;
  /** The organization of each authorization (src/organizations); the CLI serves no authorization. */
  organizations?: ProviderSettings['organizations'];
  /** Registered clients kept in memory, dropped on change notices (src/provider/node-sync.ts). */
  clientCache?: ClientCache;
  /** A request's model writes held back and written at once (src/provider/batched-writes.ts). */
  batchedWrites?: BatchedWrites;
  /** Other tables' rows read with each token, and how the request takes them (src/wiring/core-services.ts). */
  readAhead?: { take: ReadAheadTaker; companions: readonly ReadAheadCompanion[] };
}): Promise<Provider> {
  const { config, storage, pages, logger, refreshRotations: rotations } = options;
  const [jwks, cookieKeys] = await Promise.all([
    loadSigningKeys(storage.db, options.secretBox),
    loadCookieSigner(storage.db),
  ]);
  const Adapter = createAdapterClass(storage.db, {
    refreshTokenReuseGraceSeconds: rotations?.graceSeconds ?? REFRESH_TOKEN_REUSE_GRACE_SECONDS,
    clientCacheSeconds: NO_CLIENT_CACHE,
    clientCache: options.clientCache,
    batchedWrites: options.batchedWrites,
    readAheadCompanions: options.readAhead?.companions,
    tokenRequests: rotations,
    now: rotations?.now,
  });
  const provider = withPlainOidcContext(
    () =>
      new Provider(config.issuer, {
        ...buildProviderConfiguration({
          config,
          jwks,
          cookieKeys,
          pages,
          findAccount: createFindAccount(new UserRepository(storage.db), options.readAhead?.take),
          secondFactors: new FactorRepository(storage.db),
          takeInitialAccessToken: (value) => takeInitialAccessToken(storage.db, value),
          organizations: options.organizations,
        }),
        adapter: Adapter,
      }),
  );
  rememberClientInstances(provider, (clientId) => new Adapter('Client').find(clientId));
  provider.proxy = config.trustProxy.kind !== 'none';
  if (rotations) {
    provider.use(idempotentRefresh({ rotations, logger, tokenPath: provider.pathFor('token', { mountPath: '' }) }));
  }

  // Registered secrets are stored as hashes (see client-secret.ts); compare the presented one hashed.
  // A rotated secret keeps working until its expiry (src/clients/client-secret-rotation.ts).
  const now = rotations?.now ?? Date.now;
  provider.Client.prototype.compareClientSecret = function compareClientSecret(
    this: { clientSecret?: string; previous_secrets?: unknown },
    actual: string,
  ) {
    return (
      clientSecretMatches(this.clientSecret, actual) || previousSecretMatches(this.previous_secrets, actual, now())
    );
  } as never;

  watchRegistrations(provider, config.clientRegistration, logger);
  provider.on('server_error', (ctx, error) => {
    if (!isDatabaseUnavailable(error)) return logger.error({ err: error }, 'oidc-provider server error');
    // The body stays oidc-provider's server_error; the status says to come back (emitted before the response goes out).
    logger.warn({ err: { message: error.message }, path: ctx.path }, 'database unavailable');
    ctx.status = 503;
    ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
  });
  for (const event of [
    'grant.error',
    'authorization.error',
    'introspection.error',
    'revocation.error',
    'end_session.error',
    'userinfo.error',
  ] as const) {
    (provider as unknown as NodeJS.EventEmitter).on(
      event,
      (_ctx: unknown, error: { name?: string; message?: string; error_detail?: string }) =>
        logger.debug({ event, error: error.name, message: error.message, detail: error.error_detail }, 'oidc error'),
    );
  }
  (provider as unknown as NodeJS.EventEmitter).on(
    'backchannel.error',
    (_ctx: unknown, error: Error, client: { clientId: string }) =>
      logger.warn({ err: error, clientId: client.clientId }, 'back-channel logout delivery failed'),
  );
  return provider;
}
