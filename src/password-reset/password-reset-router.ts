import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { bodyParser } from '../http/body-parser.ts';
import { csrfProtection, expiredFormPage } from '../http/csrf.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import { LinkTokenCookie } from '../http/link-token-cookie.ts';
import { brandPageFor } from '../http/page-branding.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import type { PasswordResetService, ResetOutcome } from './password-reset.ts';
import { RESET_TOKEN_TTL_MS } from './password-reset-tokens.ts';

export interface PasswordResetRouterDependencies {
  config: Config;
  pages: PageRenderer;
  resets: PasswordResetService;
}

const emailForm = z.object({ email: formFields.text().transform(normalizeEmail) });
const resetForm = z.object({
  password: formFields.text(),
  password_confirmation: formFields.text(),
});

/**
 * The standalone "forgot password" pages (linked from emails and from anywhere outside a
 * sign-in) and the reset page the emailed link opens:
 *   GET/POST /password/forgot → /password/forgot/sent (the same page for every email)
 *   GET /password/reset?token=… → 303 /password/reset (the token kept in a cookie, out of the URL);
 *   GET/POST /password/reset → /password/changed, or back to the sign-in it started from.
 * The "forgot" step inside a sign-in is forgot-password-step.ts.
 */
export function passwordResetRouter(deps: PasswordResetRouterDependencies): Router {
  const { pages, resets } = deps;
  const router = new Router({ prefix: '/password' });
  const link = new LinkTokenCookie({
    name: 'umbral.reset-link',
    path: '/password/reset',
    secure: deps.config.secure,
    linkTtlSeconds: RESET_TOKEN_TTL_MS / 1000,
  });
  // The link's token is still in its cookie: the reset page shows the form again, from it.
  router.use(
    expiredFormPage(pages, (ctx) =>
      ctx.path.endsWith('/reset') && link.read(ctx) ? '/password/reset' : '/password/forgot',
    ),
  );
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));
  router.use(csrfProtection({ issuer: deps.config.issuer, secure: deps.config.secure }));

  router.get('/forgot', async (ctx) => {
    await pages.render(ctx, 'forgot-password', { action: '/password/forgot', email: '', backUrl: undefined });
  });

  router.post('/forgot', async (ctx) => {
    const { email } = readForm(ctx, emailForm);
    if (!isValidEmail(email)) {
      return pages.render(
        ctx,
        'forgot-password',
        { action: '/password/forgot', email, backUrl: undefined, error: 'email_invalid' },
        400,
      );
    }
    const outcome = await resets.requestReset({ email, ip: ctx.ip, locale: pages.localeOf(ctx) });
    if (outcome.kind === 'ip_limited') return renderLimited(ctx, pages, outcome.retryAfterSeconds);
    seeOther(ctx, '/password/forgot/sent');
  });

  router.get('/forgot/sent', async (ctx) => {
    await pages.render(ctx, 'forgot-password-sent', { backUrl: undefined });
  });

  // Opening the link only shows the form: mail scanners fetch links, and must not use them up.
  router.get('/reset', async (ctx) => {
    if (link.takeFromUrl(ctx)) return;
    const outcome = await resets.openLink(link.read(ctx), ctx.ip);
    if (outcome.kind === 'limited') return renderLimited(ctx, pages, outcome.retryAfterSeconds);
    if (outcome.kind === 'invalid') {
      link.clear(ctx);
      return pages.render(ctx, 'reset-password-invalid', {}, 400);
    }
    brandPageFor(ctx, outcome.clientId);
    await renderResetForm(ctx, pages, deps.config, outcome.email);
  });

  router.post('/reset', async (ctx) => {
    const { password, password_confirmation: confirmation } = readForm(ctx, resetForm);
    const outcome: ResetOutcome = await resets.reset({
      token: link.read(ctx),
      password,
      confirmation,
      ip: ctx.ip,
      locale: pages.localeOf(ctx),
    });
    switch (outcome.kind) {
      case 'limited':
        return renderLimited(ctx, pages, outcome.retryAfterSeconds);
      case 'invalid':
        link.clear(ctx);
        return pages.render(ctx, 'reset-password-invalid', {}, 400);
      case 'rejected':
        brandPageFor(ctx, outcome.clientId);
        return renderResetForm(ctx, pages, deps.config, outcome.email, outcome, 400);
      case 'changed':
        link.clear(ctx);
        // No sign-in here: the person signs in with the new password through the normal login.
        seeOther(
          ctx,
          outcome.interactionUid
            ? `/interaction/${encodeURIComponent(outcome.interactionUid)}/password-changed`
            : '/password/changed',
        );
    }
  });

  router.get('/changed', async (ctx) => {
    await pages.render(ctx, 'password-changed', {});
  });

  return router;
}

async function renderResetForm(
  ctx: Context,
  pages: PageRenderer,
  config: Config,
  email: string,
  rejected?: Extract<ResetOutcome, { kind: 'rejected' }>,
  status = 200,
): Promise<void> {
  await pages.render(
    ctx,
    'reset-password',
    {
      email,
      minLength: Math.max(8, config.minPasswordLength),
      error: rejected?.error,
      policyMessageKey: rejected?.policy?.messageKey,
      policyVars: rejected?.policy?.vars,
    },
    status,
  );
}

export async function renderLimited(ctx: Context, pages: PageRenderer, retryAfterSeconds: number): Promise<void> {
  ctx.set('Retry-After', String(retryAfterSeconds));
  await pages.render(ctx, 'password-reset-limited', { minutes: Math.max(1, Math.ceil(retryAfterSeconds / 60)) }, 429);
}
