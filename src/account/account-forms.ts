import type { Middleware } from 'koa';
import compose from 'koa-compose';
import { bodyParser } from '../http/body-parser.ts';
import { csrfProtection } from '../http/csrf.ts';

/**
 * Body parsing and CSRF protection for everything under /account, once, in front of every
 * account router (profile, password, email, sessions, and the sections other capabilities add).
 * JSON is accepted too, for the WebAuthn ceremonies; it must carry `_csrf` like any form.
 */
export function accountForms(options: { issuer: string; secure: boolean }): Middleware {
  const guard = compose([
    bodyParser({ enableTypes: ['form', 'json'], formLimit: '16kb', jsonLimit: '64kb' }),
    csrfProtection(options),
  ]);
  return (ctx, next) => (ctx.path === '/account' || ctx.path.startsWith('/account/') ? guard(ctx, next) : next());
}
