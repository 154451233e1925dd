import type { Context, Middleware } from 'koa';
import { seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';

/**
 * Longest query a POST is turned into. Browsers and proxies take URLs of 8 KiB; a request larger
 * than that belongs in a pushed authorization request (PAR), whose request_uri is short.
 */
export const MAX_QUERY_LENGTH = 8 * 1024;

/**
 * POST support for the authorization and end-session endpoints (OpenID Connect Core 3.1.2.1,
 * RP-Initiated Logout 2). oidc-provider serves POST there only with SameSite=None session cookies,
 * since a cross-site POST carries no Lax cookie. Instead, a form POST to one of `paths` (exactly:
 * /session/end/confirm, the logout page's own form, is not one) is answered with a 303 to the
 * same endpoint with the parameters as its query: the browser follows it as a top-level GET,
 * which carries the Lax session cookie, and oidc-provider handles it as any GET request.
 * The body is relayed verbatim, not parsed into fields: the provider judges the parameters.
 */
export function endpointFormPosts(options: {
  paths: string[];
  pages: PageRenderer;
  maxQueryLength?: number;
}): Middleware {
  const paths = new Set(options.paths);
  const limit = options.maxQueryLength ?? MAX_QUERY_LENGTH;
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !paths.has(ctx.path)) return next();
    if (!ctx.is('application/x-www-form-urlencoded')) {
      return options.pages.renderError(ctx, { error: 'invalid_request' }, undefined, 415);
    }
    const body = await readBody(ctx, limit);
    const query = body === undefined ? undefined : new URLSearchParams(body).toString();
    if (query === undefined || query.length > limit) {
      return options.pages.renderError(ctx, { error: 'request_too_large' }, undefined, 413);
    }
    ctx.set('Cache-Control', 'no-store');
    seeOther(ctx, query ? `${ctx.path}?${query}` : ctx.path);
  };
}

/** The body as text, or undefined when it is longer than `limit` bytes (the rest is drained unkept). */
function readBody(ctx: Context, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = Number(ctx.get('content-length') || 0) > limit ? limit + 1 : 0;
    ctx.req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
    });
    ctx.req.on('end', () => resolve(length > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    ctx.req.on('error', reject);
  });
}
