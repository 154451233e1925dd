import Koa, { type Middleware } from 'koa';
import type { TrustProxy } from '../config/trust-proxy.ts';
import type { Logger } from '../logging/logger.ts';
import { clientAddress } from './client-address.ts';
import { type PageLocaleOptions, pageLocaleMiddleware } from './page-locale.ts';
import { requestIds } from './request-scope.ts';
import { securityHeaders } from './security-headers.ts';

/**
 * The Koa app every capability's routes join: cookie keys shared with oidc-provider, the client's
 * address as TRUST_PROXY says, request logs, security headers and the page's language (PageRenderer renders the templates).
 */
export function createWebApp(options: {
  keys: Koa['keys'];
  trustProxy: TrustProxy;
  secure: boolean;
  logger: Logger;
  onLanguageChoice?: PageLocaleOptions['onChoice'];
  /** Counts and times each request (src/observability/metrics.ts); outside everything else. */
  requestMetrics?: Middleware;
  /** Token endpoint and other machine endpoints straight to oidc-provider (src/http/provider-shortcut.ts). */
  providerShortcut?: Middleware;
}) {
  const { logger } = options;
  const app = new Koa();
  app.keys = options.keys; // the provider's cookie keys, so interaction cookies verify in both
  // Forwarded headers count only from our proxies; ctx.ip is the client as TRUST_PROXY says.
  app.proxy = options.trustProxy.kind !== 'none';
  app.silent = true;
  app.on('error', (error: Error & { status?: number; expose?: boolean }) => {
    if (!error.status || error.status >= 500) logger.error({ err: error }, 'request failed');
  });
  // X-Request-Id on the response and on every log line written while serving it.
  app.use(requestIds());
  if (options.requestMetrics) app.use(options.requestMetrics);
  app.use(clientAddress(options.trustProxy));
  // A line per request at debug level only; /metrics counts and times them at any level.
  if (logger.isLevelEnabled('debug')) {
    app.use(async (ctx, next) => {
      const started = performance.now();
      await next();
      const ms = Math.round(performance.now() - started);
      logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
    });
  }
  app.use(securityHeaders(options.secure));
  if (options.providerShortcut) app.use(options.providerShortcut);
  app.use(pageLocaleMiddleware({ secure: options.secure, onChoice: options.onLanguageChoice }));
  return app;
}
