import path from 'node:path';
import Koa from 'koa';
import mount from 'koa-mount';
import views from 'koa-views';
import type Provider from 'oidc-provider';
import { purgeExpired } from '../adapters/postgres-adapter.ts';
import type { Config } from './config/config.ts';
import { assetsRouter } from './http/assets.ts';
import { errorPages } from './http/error-pages.ts';
import { healthRouter } from './http/health.ts';
import { PageRenderer } from './http/page-renderer.ts';
import { securityHeaders } from './http/security-headers.ts';
import { negotiateLocale } from './i18n/i18n.ts';
import { PasswordResetService } from './accounts/password-reset.ts';
import { passwordResetRouter } from './accounts/password-reset-router.ts';
import { forgotPasswordStepRouter } from './interactions/forgot-password-step.ts';
import { interactionsRouter } from './interactions/interactions-router.ts';
import { verifyEmailRouter } from './interactions/verify-email-link.ts';
import type { Logger } from './logging/logger.ts';
import { createMailer, type QueuedMailer } from './notify/create-mailer.ts';
import { devOutboxRouter } from './notify/dev-outbox-router.ts';
import { createProvider } from './provider/create-provider.ts';
import { migrateToLatest, openStorage, type Storage } from './storage/database.ts';
import { createLoginThrottle, purgeExpiredThrottle, type LoginThrottle } from './throttling/login-throttle.ts';

export interface Umbral {
  app: Koa;
  provider: Provider;
  storage: Storage;
  throttle: LoginThrottle;
  mailer: QueuedMailer;
  close(): Promise<void>;
}

export interface UmbralOptions {
  /** PostgreSQL schema to use (tests give each run its own). */
  schema?: string;
}

/** Opens storage, applies migrations, and assembles the Koa app around oidc-provider. */
export async function createUmbral(config: Config, logger: Logger, options: UmbralOptions = {}): Promise<Umbral> {
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    role: 'server',
    ...(options.schema ? { schema: options.schema } : {}),
  });
  try {
    const applied = await migrateToLatest(storage.db);
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');
    const pages = new PageRenderer({ productName: config.productName, logoUrl: config.logoUrl });
    const provider = await createProvider({ config, storage, pages, logger });
    const throttle = createLoginThrottle({ db: storage.db, redisUrl: config.redisUrl });
    const mailer = createMailer({ config, db: storage.db, logger });

    const app = new Koa();
    app.keys = provider.keys; // the same cookie keys, so interaction cookies verify in both
    app.proxy = config.trustProxy;
    app.silent = true;
    app.on('error', (error: Error & { status?: number; expose?: boolean }) => {
      if (!error.status || error.status >= 500) logger.error({ err: error }, 'request failed');
    });
    app.use(async (ctx, next) => {
      const started = performance.now();
      await next();
      logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'request');
    });
    app.use(securityHeaders(config.secure));
    app.use(async (ctx, next) => {
      ctx.state['locale'] = negotiateLocale(undefined, ctx.get('accept-language'));
      await next();
    });
    // Compiled templates are cached: pages change with a deploy, not at run time.
    app.use(views(path.resolve(import.meta.dirname, '../views'), { extension: 'ejs', options: { cache: true } }));
    app.use(errorPages(pages, logger));
    app.use(healthRouter(storage).routes());
    app.use(assetsRouter().routes());
    // Development without SMTP_URL keeps mail here; it holds secret links, so never in production.
    if (!config.production) app.use(devOutboxRouter({ config, db: storage.db, pages }).routes());
    const resets = new PasswordResetService({ config, db: storage.db, mailer, logger });
    app.use(passwordResetRouter({ config, pages, resets }).routes());
    app.use(forgotPasswordStepRouter({ config, provider, pages, resets }).routes());
    app.use(verifyEmailRouter({ config, provider, storage, pages, logger }).routes());
    const interactions = interactionsRouter({ config, provider, storage, pages, throttle, mailer, logger });
    app.use(interactions.routes());
    app.use(interactions.allowedMethods());
    app.use(mount(provider));

    const purgeTimer = setInterval(() => {
      Promise.all([purgeExpired(storage.db), purgeExpiredThrottle(storage.db)]).then(
        ([oidcRows, throttleRows]) => logger.debug({ oidcRows, throttleRows }, 'purged expired rows'),
        (error) => logger.warn({ err: error }, 'purge of expired rows failed'),
      );
    }, config.purgeIntervalSeconds * 1000);
    purgeTimer.unref();

    return {
      app,
      provider,
      storage,
      throttle,
      mailer,
      async close() {
        clearInterval(purgeTimer);
        await mailer.stop();
        await throttle.close();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
