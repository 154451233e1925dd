import type { Middleware } from 'koa';

/**
 * Headers for every response. Pages rendered by Umbral tighten the CSP further
 * (see PageRenderer); oidc-provider's own responses keep theirs.
 */
export function securityHeaders(secure: boolean): Middleware {
  const headers: Array<[string, string]> = [
    ['X-Content-Type-Options', 'nosniff'],
    // same-origin by default; the pages of emailed links (link-token-cookie.ts) tighten it to no-referrer,
    // whose forms then post with `Origin: null` (see csrf.ts).
    ['Referrer-Policy', 'same-origin'],
    ['X-Frame-Options', 'DENY'],
    ['Content-Security-Policy', "frame-ancestors 'none'"],
  ];
  if (secure) headers.push(['Strict-Transport-Security', 'max-age=31536000; includeSubDomains']);
  // Straight onto the response (constant, valid values): Koa's ctx.set showed in the token endpoint's profile.
  return (ctx, next) => {
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    return next();
  };
}
