import type { Middleware } from 'koa';
import type { Logger } from '../logging/logger.ts';
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
      logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      await pages.renderError(ctx, { error: 'server_error' }, error, 500);
    }
  };
}
