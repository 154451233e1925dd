import compose from 'koa-compose';
import mount from 'koa-mount';
import { ACCOUNT_CLIENT_ID } from './account/account-client.ts';
import type { Config } from './config/config.ts';
import { createFederation, exposeProviders } from './federation/create-federation.ts';
import { federationCallbackRouter } from './federation/federation-callback-router.ts';
import { FederationStep } from './federation/federation-step.ts';
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
import { PasskeySignInStep } from './mfa/passkey-sign-in-step.ts';
import { SecondFactorStep } from './mfa/second-factor-step.ts';
import { mountOrgConsole } from './org-console/org-console.ts';
import { invitationPages } from './organizations/invitation-pages.ts';
import { ForgotPasswordStep } from './password-reset/forgot-password-step.ts';
import { TTL } from './provider/configuration.ts';
import { endpointFormPosts } from './provider/endpoint-form-posts.ts';
import { startNodeSync } from './provider/node-sync.ts';
import { SessionActivity } from './sessions/session-activity.ts';
import { SessionDirectory } from './sessions/session-directory.ts';
import { SessionTerminator } from './sessions/session-terminator.ts';
import { SingleSessionPolicy } from './sessions/single-session-policy.ts';
import { SingleSessionStep } from './sessions/single-session-step.ts';
import { migrateToLatest, openStorage } from './storage/database.ts';
import { LockoutResetStep } from './throttling/lockout-reset-step.ts';
import { EmailVerifications } from './users/email-verification.ts';
import { UserAdministration } from './users/user-administration.ts';
import { UserRepository } from './users/users.ts';
import { mountAccountArea } from './wiring/account-area.ts';
import { startBackgroundWork } from './wiring/background-work.ts';
import { createCoreServices } from './wiring/core-services.ts';
import { mountOperatorSurfaces } from './wiring/operator-surfaces.ts';
import { mountRecoveryPages } from './wiring/recovery-pages.ts';
import { ResourceStack } from './wiring/resource-stack.ts';
import type { Umbral, UmbralOptions } from './wiring/umbral.ts';
import { createWebShell } from './wiring/web-shell.ts';

export type { Umbral, UmbralOptions };

/** Opens storage, applies migrations, and assembles the Koa app around oidc-provider. */
export async function createUmbral(config: Config, logger: Logger, options: UmbralOptions = {}): Promise<Umbral> {
  // What is opened from here on, closed in reverse by close() or by a start-up that fails halfway.
  const resources = new ResourceStack();
  const storage = resources.own(
    'storage',
    await openStorage({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      role: 'server',
      poolSize: config.node.databasePoolSize,
    }),
    (s) => s.close(),
  );
  try {
    const applied = await migrateToLatest(storage.db);
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');
    // The services every surface shares, oidc-provider among them (src/wiring/core-services.ts).
    const core = await createCoreServices(config, logger, storage, options, resources);
    const { observability, audit, pages, secretBox, webhooks, refreshRotations, companies, insights } = core;
    const { provider, providerShortcut, batchedWrites, clientCache, throttle, mailer, mfa, endedSessionNotice } = core;
    const { metrics } = observability;
    const organizationSignIn = companies.signIn;

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
    resources.defer('session terminations', () => terminator.settled());
    // /unlock and the password reset pages, from emailed links (src/wiring/recovery-pages.ts).
    const recoveryDeps = { config, db: storage.db, pages, mailer, logger, audit, terminator };
    const { lockout, resets } = mountRecoveryPages(app, recoveryDeps);
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
    resources.defer('node sync', () => nodeSync.stop());

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
    resources.defer('background work', () => background.stop());

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
      close: () => resources.close(),
    };
  } catch (error) {
    await resources.close().catch((closeError: unknown) => {
      logger.error({ err: closeError }, 'closing what a failed start-up had opened');
    });
    throw error;
  }
}
