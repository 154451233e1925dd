import type { Middleware } from 'koa';
import compose from 'koa-compose';
import { bodyParser } from '../http/body-parser.ts';
import { csrfProtection, expiredFormPage } from '../http/csrf.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { pageOf } from './operator-access.ts';

export const CONSOLE_PREFIX = '/admin';

/**
 * Form parsing and CSRF protection for everything under /admin, in front of every console router.
 * Forms only (no JSON: nothing here needs a script); a form refused by the CSRF check ends on the
 * form-expired page (403) with a link back to the page it came from.
 */
export function consoleForms(options: { issuer: string; secure: boolean; pages: PageRenderer }): Middleware {
  const guard = compose([
    expiredFormPage(options.pages, pageOf),
    bodyParser({ enableTypes: ['form'], formLimit: '16kb' }),
    csrfProtection(options),
  ]);
  return (ctx, next) =>
    ctx.path === CONSOLE_PREFIX || ctx.path.startsWith(`${CONSOLE_PREFIX}/`) ? guard(ctx, next) : next();
}
