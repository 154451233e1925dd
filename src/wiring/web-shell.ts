import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { assetsRouter } from '../http/assets-router.ts';
import { errorPages } from '../http/error-pages.ts';
import { healthRouter } from '../http/health-router.ts';
import { legalRouter } from '../http/legal-router.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { ProviderShortcut } from '../http/provider-shortcut.ts';
import { createWebApp } from '../http/web-app.ts';
import type { Logger } from '../logging/logger.ts';
import { devOutboxRouter } from '../notify/dev-outbox-router.ts';
import type { createObservability } from '../observability/create-observability.ts';
import { cookieNames } from '../provider/configuration.ts';
import type { EndedSessionNotice } from '../sessions/ended-session-notice.ts';
import type { Storage } from '../storage/database.ts';
import { RememberedLanguage } from '../users/remembered-language.ts';

/**
 * The Koa app every capability mounts on, with what all of them share in front: error pages,
 * health and metrics, the notice of a session ended elsewhere, assets, the legal pages, the dev
 * outbox, and the footer's language choice (kept on the account for its emails).
 */
export function createWebShell(deps: {
  config: Config;
  storage: Storage;
  provider: Provider;
  pages: PageRenderer;
  logger: Logger;
  observability: ReturnType<typeof createObservability>;
  providerShortcut: ProviderShortcut;
  endedSessionNotice: EndedSessionNotice;
}): Koa {
  const { config, storage, provider, pages, logger, observability } = deps;
  // The footer's language choice becomes the account's, for its emails (src/users/remembered-language.ts).
  const language = new RememberedLanguage({
    db: storage.db,
    provider,
    sessionCookie: cookieNames(config.secure).session,
    logger,
  });
  language.recordAuthorizations();
  const app = createWebApp({
    keys: provider.keys,
    trustProxy: config.trustProxy,
    secure: config.secure,
    logger,
    requestMetrics: observability.metrics.requests(),
    providerShortcut: deps.providerShortcut.middleware(),
    onLanguageChoice: (ctx, locale) =>
      language.chosen(ctx, locale).catch((error: unknown) => {
        logger.warn({ err: error }, 'could not remember the chosen language');
      }),
  });
  app.use(errorPages(pages, logger));
  app.use(healthRouter(storage).routes());
  observability.mount(app);
  app.use(deps.endedSessionNotice.middleware(['/auth', '/account']));
  app.use(assetsRouter().routes());
  app.use(legalRouter(pages).routes());
  // Without SMTP_URL, on a loopback ISSUER only, mail is kept here; it holds secret links.
  if (config.devOutbox) app.use(devOutboxRouter({ config, db: storage.db, pages }).routes());
  return app;
}
