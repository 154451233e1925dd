import compose from 'koa-compose';
import mount from 'koa-mount';
import { ACCOUNT_CLIENT_ID } from './account/account-client.ts';
import { AuditLog } from './audit/audit-log.ts';
import { ClientCache, clientCacheSeconds } from './clients/client-cache.ts';
import type { Config } from './config/config.ts';
import { SecretBox } from './crypto/secret-box.ts';
import { loadSecretEncryptionKey } from './crypto/secret-key.ts';
import { createFederation, exposeProviders } from './federation/create-federation.ts';
import { FederatedIdentities } from './federation/federated-identities.ts';
import { federationCallbackRouter } from './federation/federation-callback-router.ts';
import { FederationStep } from './federation/federation-step.ts';
import { PageRenderer } from './http/page-renderer.ts';
import { PROVIDER_API_ROUTES, ProviderShortcut } from './http/provider-shortcut.ts';
import { ConsentStep } from './interactions/consent-step.ts';
import type { UpstreamAdmission } from './interactions/interaction.ts';
import { interactionsRouter } from './interactions/interactions-router.ts';
import { LoginIdentifierCookie } from './interactions/login-identifier-cookie.ts';
import { PasswordStep } from './interactions/password-step.ts';
import { SignInPipeline } from './interactions/sign-in-pipeline.ts';
import { SignUpStep } from './interactions/sign-up-step.ts';
import { termsLabelHtml } from './interactions/terms-label.ts';
import { VerificationStep } from './interactions/verification-step.ts';
import { verifyEmailRouter } from './interactions/verify-email-router.ts';
import type { Logger } from './logging/logger.ts';
import { Mfa } from './mfa/mfa.ts';
import { PasskeySignInStep } from './mfa/passkey-sign-in-step.ts';
import { SecondFactorStep } from './mfa/second-factor-step.ts';
import { createMailer } from './notify/create-mailer.ts';
import { createObservability } from './observability/create-observability.ts';
import { mountOrgConsole } from './org-console/org-console.ts';
import { createCompanies } from './organizations/companies.ts';
import { createInsights } from './organizations/insights.ts';
import { invitationPages } from './organizations/invitation-pages.ts';
import { ForgotPasswordStep } from './password-reset/forgot-password-step.ts';
import { PasswordResetService } from './password-reset/password-reset.ts';
import { passwordResetRouter } from './password-reset/password-reset-router.ts';
import { BatchedWrites } from './provider/batched-writes.ts';
import { cookieNames, TTL } from './provider/configuration.ts';
import { createProvider } from './provider/create-provider.ts';
import { endpointFormPosts } from './provider/endpoint-form-posts.ts';
import { startNodeSync } from './provider/node-sync.ts';
import { RefreshRotations } from './provider/refresh-rotations.ts';
import { EndedSessionNotice } from './sessions/ended-session-notice.ts';
import { SessionActivity } from './sessions/session-activity.ts';
import { SessionDirectory } from './sessions/session-directory.ts';
import { SessionTerminator } from './sessions/session-terminator.ts';
import { SingleSessionPolicy } from './sessions/single-session-policy.ts';
import { SingleSessionStep } from './sessions/single-session-step.ts';
import { migrateToLatest, openStorage } from './storage/database.ts';
import { AccountLockout } from './throttling/account-lockout.ts';
import { LockoutResetStep } from './throttling/lockout-reset-step.ts';
import { createLoginThrottle } from './throttling/login-throttle.ts';
import { UnlockLinks } from './throttling/unlock-links.ts';
import { unlockRouter } from './throttling/unlock-router.ts';
import { EmailVerifications } from './users/email-verification.ts';
import { UserAdministration } from './users/user-administration.ts';
import { UserRepository } from './users/users.ts';
import { createWebhooks } from './webhooks/create-webhooks.ts';
import { mountAccountArea } from './wiring/account-area.ts';
import { startBackgroundWork } from './wiring/background-work.ts';
import { mountOperatorSurfaces } from './wiring/operator-surfaces.ts';
import type { Umbral, UmbralOptions } from './wiring/umbral.ts';
import { createWebShell } from './wiring/web-shell.ts';

export type { Umbral, UmbralOptions };

/** Opens storage, applies migrations, and assembles the Koa app around oidc-provider. */
export async function createUmbral(config: Config, logger: Logger, options: UmbralOptions = {}): Promise<Umbral> {
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    role: 'server',
    poolSize: config.node.databasePoolSize,
  });
  try {
    const applied = await migrateToLatest(storage.db);
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');
    // Metrics (src/observability): requests by route, sign-ins (from the audit events), tokens, queues, pool.
    const observability = createObservability(config, storage);
    const { metrics } = observability;
    const audit = new AuditLog({ db: storage.db, logger, now: options.now, observe: (e) => metrics.auditEvent(e) });
    const pages = new PageRenderer({
      productName: config.productName,
      logoUrl: config.logoUrl,
      support: config.support,
    });
    // Seals what must not be readable from a database dump: signing keys, authenticator-app secrets.
    const secretKey = loadSecretEncryptionKey(config, logger);
    const secretBox = new SecretBox(secretKey);
    // Webhooks: capabilities emit to `webhooks.events`; every process delivers the queue (src/webhooks).
    const webhooks = createWebhooks({ config, db: storage.db, secretBox, logger, audit, now: options.now });
    metrics.reportWebhookQueue(async () => {
      const { queued, failed } = await webhooks.stats();
      return { pending: queued, failed };
    });
    const refreshRotations = new RefreshRotations({ db: storage.db, secretBox, now: options.now });
    // Companies: the organization of each authorization (oidc-provider's checks, grants, tokens), its step, contracts.
    const companies = createCompanies({
      config,
      db: storage.db,
      logger,
      identities: new FederatedIdentities(storage.db),
      now: options.now,
      webhooks: webhooks.events,
    });
    const organizationSignIn = companies.signIn;
    // Clients in memory, dropped on every node at once when one changes (src/provider/node-sync.ts).
    const clientCache = new ClientCache(clientCacheSeconds(storage.kind), options.now);
    // Each oidc-provider request's writes in one statement, before its answer leaves.
    const batchedWrites = new BatchedWrites(storage.db);
    const insights = createInsights({ config, db: storage.db, logger, audit, now: options.now });
    const provider = await createProvider({
      config,
      storage,
      pages,
      logger,
      secretBox,
      refreshRotations,
      organizations: organizationSignIn,
      clientCache,
      batchedWrites,
    });
    metrics.watchProvider(provider);
    // Token requests and the other machine endpoints skip the page routers (src/http/provider-shortcut.ts).
    const providerShortcut = new ProviderShortcut(
      new Set(PROVIDER_API_ROUTES.map((r) => provider.pathFor(r, { mountPath: '' }))),
    );
    // Each portal's pages carry its name, logo, colour and legal links (src/http/page-branding.ts).
    pages.branding.usePortals(async (clientId) => (await provider.Client.find(clientId))?.metadata());
    const throttle = await createLoginThrottle({
      db: storage.db,
      redisUrl: config.redisUrl,
      redisKeyPrefix: `${config.redisKeyPrefix}throttle:`,
      now: options.now,
      logger,
    });
    const mailer = createMailer({ config, db: storage.db, logger });
    const mfa = new Mfa({ config, db: storage.db, logger, mailer, secretKey, audit });
    const endedSessionNotice = new EndedSessionNotice(storage.db, cookieNames(config.secure).session, config.secure);

    // The Koa app around it all, with the pages and endpoints every part shares (src/wiring/web-shell.ts).
    const app = createWebShell({
      config,
      storage,
      provider,
      pages,
      logger,
      observability,
      providerShortcut,
      endedSessionNotice,
    });
    const terminator = new SessionTerminator({ provider, db: storage.db, logger, audit });
    // The hard cap on consecutive wrong passwords; the emailed link at /unlock lifts it.
    const unlockLinks = new UnlockLinks({ db: storage.db, mailer, logger, issuer: config.issuer });
    const lockout = new AccountLockout({ db: storage.db, links: unlockLinks, logger });
    app.use(
      unlockRouter({ issuer: config.issuer, secure: config.secure, pages, links: unlockLinks, lockout }).routes(),
    );
    const resets = new PasswordResetService({
      config,
      db: storage.db,
      mailer,
      logger,
      lockout,
      audit,
      endSessions: (accountId) => terminator.endOthers(accountId, undefined, 'password_changed'),
    });
    app.use(passwordResetRouter({ config, pages, resets }).routes());
    // Operators' and the Admin API's users service: search, disable, remove, factors, sessions.
    const userAdministration = new UserAdministration({
      config,
      db: storage.db,
      logger,
      mailer,
      audit,
      sessions: async () => ({ terminator, directory: new SessionDirectory({ db: storage.db, provider }) }),
      passwordResets: resets,
      auditLog: audit,
      webhooks: webhooks.events,
      now: options.now,
    });
    app.use(verifyEmailRouter({ config, provider, storage, pages, logger }).routes());
    const federation = createFederation({ config, db: storage.db, logger });
    app.use(exposeProviders(federation));
    app.use(federationCallbackRouter({ config, pages, logger, ...federation }).routes());
    const singleSession = new SingleSessionPolicy({ provider, terminator, everywhere: config.singleSession });
    provider.use(
      organizationSignIn.authorizations.afterAuthorization({
        // An organization's single_session: its member's other sessions end, whatever the portal.
        endOtherSessions: ({ accountId, clientId, keepSessionUid }) =>
          singleSession.enforce({
            accountId,
            clientId,
            currentSession: { uid: keepSessionUid, accountId },
            required: true,
          }),
        ttl: TTL,
      }),
    );
    // Device and address of each session (shown on /account/sessions).
    new SessionActivity(storage.db).recordAuthorizations(provider, logger);
    // The account page and its sections, signed in through Umbral's own login (src/wiring/account-area.ts).
    const { accountSignIn, access } = mountAccountArea(app, {
      config,
      db: storage.db,
      pages,
      provider,
      throttle,
      terminator,
      mailer,
      logger,
      audit,
      mfa,
      federation,
      organizations: companies.accountMemberships,
      webhooks: webhooks.events,
    });
    // The company admins' console at /org (src/org-console), signed in as the account page is.
    mountOrgConsole(app, {
      config,
      db: storage.db,
      provider,
      pages,
      logger,
      access,
      audit,
      mailer,
      signIns: insights.signInEvents,
      now: options.now,
      webhooks: webhooks.events,
    });
    const users = new UserRepository(storage.db);
    const identifier = new LoginIdentifierCookie(config.secure);
    const verification = new VerificationStep({
      config,
      pages,
      mailer,
      logger,
      users,
      verifications: new EmailVerifications(storage.db),
    });
    // Steps that may refuse an upstream account before federation touches any (an invitation's address).
    const upstreamAdmissions: UpstreamAdmission[] = [];
    const federationStep = new FederationStep({
      config,
      provider,
      pages,
      logger,
      storage,
      throttle,
      federation,
      verification,
      termsLabelHtml: (t) => termsLabelHtml(config, t),
      // Microsoft tenants and Google Workspace domains bound to an organization: their people join it.
      afterUpstreamSignIn: companies.upstreamJoining,
      upstreamAdmissions,
      audit,
      webhooks: webhooks.events,
    });
    // Invitations to a company (ISSUER/invitations/<token>): the page, and the step that accepts them.
    const invitations = invitationPages({
      config,
      db: storage.db,
      provider,
      pages,
      logger,
      users,
      verification,
      upstream: federationStep.upstreamStart,
      upstreamNames: () => federation.upstreams.names(),
      signIn: accountSignIn,
      clientId: ACCOUNT_CLIENT_ID,
      now: options.now ?? Date.now,
      onAccepted: insights.memberJoined,
      webhooks: webhooks.events,
    });
    upstreamAdmissions.push(invitations.step);
    app.use(invitations.router.routes());
    // The sign-in, in order. GET /interaction/:uid asks each step's `resume` which page comes now;
    // after a first factor each step's `enter` runs in turn. A new step is one file and one line here.
    const signIn = new SignInPipeline([
      verification,
      new SecondFactorStep({ config, provider, pages, throttle, logger, mfa, users }),
      new LockoutResetStep(lockout),
      invitations.step,
      insights.companyStep(provider, pages),
      companies.organizationStep(provider),
      new SignUpStep({
        config,
        provider,
        db: storage.db,
        pages,
        logger,
        users,
        identifier,
        verification,
        address: invitations.step,
        webhooks: webhooks.events,
      }),
      new PasswordStep({
        provider,
        users,
        throttle,
        lockout,
        pages,
        logger,
        identifier,
        sessionNotice: endedSessionNotice,
        verification,
        identifierRouting: federationStep.identifierRouting,
        audit,
      }),
      new ForgotPasswordStep({ pages, resets, identifier, provider }),
      new PasskeySignInStep({ config, throttle, logger, mfa, users }),
      federationStep,
      new ConsentStep({ provider, users }),
      new SingleSessionStep(singleSession),
    ]).recordingTo(audit, insights.signInEvents, webhooks.signIns);
    const interactions = interactionsRouter({ config, provider, pages, pipeline: signIn });
    app.use(interactions.routes());
    app.use(interactions.allowedMethods());
    // Operators: the console at /admin and the Admin API, on the same services (src/wiring/operator-surfaces.ts).
    const adminApi = mountOperatorSurfaces(app, {
      config,
      db: storage.db,
      provider,
      pages,
      logger,
      access,
      signIn: accountSignIn,
      mfa,
      secretBox,
      audit,
      users: userAdministration,
      webhooks,
      now: options.now,
    });
    app.use(endpointFormPosts({ paths: ['/auth', '/session/end'], pages }));
    const providerRoutes = compose([batchedWrites.middleware(), mount(provider)]);
    providerShortcut.serveWith(providerRoutes);
    app.use(providerRoutes);

    // Several nodes alike without restarts: change notices drop changed clients; keys reload (src/provider/node-sync.ts).
    const nodeSync = await startNodeSync({
      storage,
      provider,
      app,
      secretBox,
      logger,
      clientCache,
      keyReloadSeconds: config.node.keyReloadSeconds,
    });

    const background = startBackgroundWork({
      config,
      storage,
      logger,
      provider,
      companies,
      insights,
      webhooks,
      mfa,
      audit,
      refreshRotations,
    });

    return {
      app,
      provider,
      storage,
      throttle,
      mailer,
      terminator,
      mfa,
      audit,
      metrics,
      clientCache,
      insights,
      userAdministration,
      adminApi,
      webhooks,
      contracts: background.contracts,
      async close() {
        await background.stop();
        await nodeSync.stop();
        await terminator.settled();
        await webhooks.close();
        await mailer.stop();
        await audit.close();
        await insights.close();
        await throttle.close();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
