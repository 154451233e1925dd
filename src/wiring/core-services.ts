import { takeReadAhead } from '../../adapters/model-lookups.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { ClientCache, clientCacheSeconds } from '../clients/client-cache.ts';
import type { Config } from '../config/config.ts';
import { SecretBox } from '../crypto/secret-box.ts';
import { loadSecretEncryptionKey } from '../crypto/secret-key.ts';
import { FederatedIdentities } from '../federation/federated-identities.ts';
import { PageRenderer } from '../http/page-renderer.ts';
import { PROVIDER_API_ROUTES, ProviderShortcut } from '../http/provider-shortcut.ts';
import type { Logger } from '../logging/logger.ts';
import { Mfa } from '../mfa/mfa.ts';
import { createMailer } from '../notify/create-mailer.ts';
import { createObservability } from '../observability/create-observability.ts';
import { createCompanies } from '../organizations/companies.ts';
import { createInsights } from '../organizations/insights.ts';
import { ORGANIZATION_GRANT_READ_AHEAD } from '../organizations/organization-grants.ts';
import { BatchedWrites } from '../provider/batched-writes.ts';
import { cookieNames } from '../provider/configuration.ts';
import { createProvider } from '../provider/create-provider.ts';
import { RefreshRotations } from '../provider/refresh-rotations.ts';
import { EndedSessionNotice } from '../sessions/ended-session-notice.ts';
import type { Storage } from '../storage/database.ts';
import { createLoginThrottle } from '../throttling/login-throttle.ts';
import { USER_CLAIMS_READ_AHEAD } from '../users/user-claims.ts';
import { createWebhooks } from '../webhooks/create-webhooks.ts';
import type { ResourceStack } from './resource-stack.ts';
import type { UmbralOptions } from './umbral.ts';

/** The services every surface of Umbral shares, oidc-provider among them, before any route is mounted. */
export type CoreServices = Awaited<ReturnType<typeof createCoreServices>>;

/**
 * Creates the shared services on opened, migrated storage (src/app.ts mounts the surfaces on them).
 * Each one holding a connection, a timer or a queue is registered on `resources` as it opens, so a
 * failure further on (a signing key sealed with another key, say) closes those already open.
 */
export async function createCoreServices(
  config: Config,
  logger: Logger,
  storage: Storage,
  options: UmbralOptions,
  resources: ResourceStack,
) {
  const { db } = storage;
  const now = options.now;
  // Metrics (src/observability): requests by route, sign-ins (from the audit events), tokens, queues, pool.
  const observability = createObservability(config, storage);
  const { metrics } = observability;
  const audit = resources.own(
    'audit log',
    new AuditLog({ db, logger, now, observe: (e) => metrics.auditEvent(e) }),
    (a) => a.close(),
  );
  const pages = new PageRenderer({ productName: config.productName, logoUrl: config.logoUrl, support: config.support });
  // Seals what must not be readable from a database dump: signing keys, authenticator-app secrets.
  const secretKey = loadSecretEncryptionKey(config, logger);
  const secretBox = new SecretBox(secretKey);
  // Webhooks: capabilities emit to `webhooks.events`; every process delivers the queue (src/webhooks).
  const webhooks = resources.own('webhooks', createWebhooks({ config, db, secretBox, logger, audit, now }), (w) =>
    w.close(),
  );
  metrics.reportWebhookQueue(async () => {
    const { queued, failed } = await webhooks.stats();
    return { pending: queued, failed };
  });
  const refreshRotations = new RefreshRotations({ db, secretBox, now });
  // Each oidc-provider request's writes in one statement, before its answer leaves; and the rows it
  // read ahead with a token (its grant, session, account's claims and grant's organization).
  const batchedWrites = new BatchedWrites(db);
  const readAhead = (model: string, id: string) => takeReadAhead(batchedWrites.readAhead(), model, id);
  // Companies: the organization of each authorization (oidc-provider's checks, grants, tokens), its step, contracts.
  const companies = createCompanies({
    config,
    db,
    logger,
    identities: new FederatedIdentities(db),
    now,
    webhooks: webhooks.events,
    readAhead,
  });
  // Clients in memory, dropped on every node at once when one changes (src/provider/node-sync.ts).
  const clientCache = new ClientCache(clientCacheSeconds(storage.kind), now);
  const insights = resources.own('insights', createInsights({ config, db, logger, audit, now }), (i) => i.close());
  const provider = await createProvider({
    config,
    storage,
    pages,
    logger,
    secretBox,
    refreshRotations,
    organizations: companies.signIn,
    clientCache,
    batchedWrites,
    readAhead: { take: readAhead, companions: [USER_CLAIMS_READ_AHEAD, ORGANIZATION_GRANT_READ_AHEAD] },
  });
  metrics.watchProvider(provider);
  // Token requests and the other machine endpoints skip the page routers (src/http/provider-shortcut.ts).
  const providerShortcut = new ProviderShortcut(
    new Set(PROVIDER_API_ROUTES.map((r) => provider.pathFor(r, { mountPath: '' }))),
  );
  // Each portal's pages carry its name, logo, colour and legal links (src/http/page-branding.ts).
  pages.branding.usePortals(async (clientId) => (await provider.Client.find(clientId))?.metadata());
  const throttle = resources.own(
    'login throttle',
    await createLoginThrottle({
      db,
      redisUrl: config.redisUrl,
      redisKeyPrefix: `${config.redisKeyPrefix}throttle:`,
      now,
      logger,
    }),
    (t) => t.close(),
  );
  const mailer = resources.own('mailer', createMailer({ config, db, logger }), (m) => m.stop());
  const mfa = new Mfa({ config, db, logger, mailer, secretKey, audit });
  const endedSessionNotice = new EndedSessionNotice(db, cookieNames(config.secure).session, config.secure);
  return {
    observability,
    audit,
    pages,
    secretBox,
    webhooks,
    refreshRotations,
    companies,
    clientCache,
    batchedWrites,
    insights,
    provider,
    providerShortcut,
    throttle,
    mailer,
    mfa,
    endedSessionNotice,
  };
}
