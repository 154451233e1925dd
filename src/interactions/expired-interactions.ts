import type { Context, Next } from 'koa';
import { errors } from 'oidc-provider';
import type { PageRenderer } from '../http/page-renderer.ts';

/**
 * An interaction that expired, finished already (back button, double submit) or belongs to
 * another browser ends on a friendly page instead of a raw error; so does a stale form, with a
 * link back to `retryPath` (the step's own page).
 */
export function handleExpiredInteractions(pages: PageRenderer, retryPath: (uid: string) => string) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof errors.SessionNotFound) {
        await pages.render(ctx, 'expired', {}, 400);
        return;
      }
      if ((error as { status?: number }).status === 403 && ctx.state['csrfFailed']) {
        await pages.render(ctx, 'form-expired', { retryUrl: retryPath(String(ctx.params['uid'])) }, 403);
        return;
      }
      throw error;
    }
  };
}
