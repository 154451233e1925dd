import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { formFields, readForm } from './form.ts';
import type { PageRenderer } from './page-renderer.ts';

const csrfForm = z.object({ _csrf: formFields.text() });

/**
 * Double-submit CSRF protection for Umbral's own forms: a random token in a signed,
 * HttpOnly cookie that every form repeats in `_csrf`; the Origin header, when sent, must be ours.
 * `Origin: null` passes only with `Sec-Fetch-Site: same-origin`: that is what browsers send for a
 * form on one of our `Referrer-Policy: no-referrer` pages (the emailed links'), and no page can
 * forge a Sec-Fetch-* header. Everywhere else `null` (a sandboxed frame, a data: URL) is refused.
 */
export function csrfProtection(options: { issuer: string; secure: boolean }): Middleware {
  const cookieName = options.secure ? '__Host-umbral.csrf' : 'umbral.csrf';
  const origin = new URL(options.issuer).origin;
  return async (ctx, next) => {
    let token = ctx.cookies.get(cookieName, { signed: true });
    if (!token) {
      token = randomBytes(24).toString('base64url');
      ctx.cookies.set(cookieName, token, {
        signed: true,
        httpOnly: true,
        sameSite: 'lax',
        secure: options.secure,
        path: '/',
      });
    }
    ctx.state['csrfToken'] = token;
    if (ctx.method === 'POST') {
      const sentOrigin = ctx.get('origin');
      const sent = readForm(ctx, csrfForm)._csrf;
      const ours =
        !sentOrigin || sentOrigin === origin || (sentOrigin === 'null' && ctx.get('sec-fetch-site') === 'same-origin');
      const valid = ours && sent.length === token.length && timingSafeEqual(Buffer.from(sent), Buffer.from(token));
      if (!valid) {
        ctx.state['csrfFailed'] = true;
        ctx.throw(403, 'csrf');
      }
    }
    await next();
  };
}

/**
 * A form that the CSRF check refused because its page went stale (the cookie expired or was
 * cleared) ends on the form-expired page, with a link back to where it can be filled again.
 */
export function expiredFormPage(pages: PageRenderer, retryUrl: (ctx: Context) => string): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if ((error as { status?: number }).status === 403 && ctx.state['csrfFailed']) {
        await pages.render(ctx, 'form-expired', { retryUrl: retryUrl(ctx) }, 403);
        return;
      }
      throw error;
    }
  };
}
