import type { Middleware } from 'koa';
import type { Logger } from '../logging/logger.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../storage/database-unavailable.ts';
import type { PageRenderer } from './page-renderer.ts';

/**
 * Unexpected failures on Umbral's own pages (a database or Redis outage, a bug) end on a
 * friendly page in the person's language; the details go to the log, never to the browser.
 */
export function errorPages(pages: PageRenderer, logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status && status < 500) {
        await pages.renderError(ctx, { error: status === 404 ? 'generic' : 'invalid_request' }, error, status);
        return;
      }
      if (isDatabaseUnavailable(error)) {
        // Fails fast while the database is away; the same request works again once it is back.
        logger.warn({ err: { message: (error as Error).message }, path: ctx.path }, 'database unavailable');
        ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
        await pages.renderError(ctx, { error: 'server_error' }, error, 503);
        return;
      }
      logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      await pages.renderError(ctx, { error: 'server_error' }, error, 500);
    }
  };
}
