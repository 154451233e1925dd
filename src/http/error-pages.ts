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
        await pages.renderError(ctx, { error: clientErrorCode(status, error) }, error, status);
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

/**
 * What a 4xx says to the person: a form too large or one that could not be read (the body
 * parser's 413, 415 and parse failures) is named as such, not as the portal's invalid request.
 */
function clientErrorCode(status: number, error: unknown): string {
  if (status === 404) return 'generic';
  if (status === 413) return 'form_too_large';
  const type = (error as { type?: unknown }).type;
  if (status === 415 || (typeof type === 'string' && /^(entity\.parse|encoding|request\.size|charset)/.test(type)))
    return 'form_malformed';
  return 'invalid_request';
}
