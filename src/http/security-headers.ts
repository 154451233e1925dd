import type { Middleware } from 'koa';

/**
 * Headers for every response. Pages rendered by Umbral tighten the CSP further
 * (see PageRenderer); oidc-provider's own responses keep theirs.
 */
export function securityHeaders(secure: boolean): Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    // same-origin by default; the pages of emailed links (link-token-cookie.ts) tighten it to no-referrer,
    // whose forms then post with `Origin: null` (see csrf.ts).
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
    if (secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
