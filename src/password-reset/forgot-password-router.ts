import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { csrfProtection } from '../http/csrf.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { negotiateLocale } from '../i18n/i18n.ts';
import { handleExpiredInteractions } from '../interactions/expired-interactions.ts';
import { LoginIdentifierCookie } from '../interactions/login-identifier-cookie.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import type { PasswordResetService } from './password-reset.ts';
import { formField, renderLimited } from './password-reset-router.ts';

export interface ForgotPasswordStepDependencies {
  config: Config;
  provider: Provider;
  pages: PageRenderer;
  resets: PasswordResetService;
}

/**
 * "¿Olvidaste tu contraseña?" from the password step of a sign-in:
 *   GET/POST /interaction/:uid/forgot → /interaction/:uid/forgot/sent
 *   GET /interaction/:uid/password-changed: where a reset started here ends. In the browser that
 *   owns the sign-in it goes back to the password step with a notice; anywhere else (the link was
 *   opened on another device, or the sign-in expired) it shows the standalone notice.
 * The reset itself happens on /password/reset (password-reset-router.ts), from the emailed link.
 */
export function forgotPasswordStepRouter(deps: ForgotPasswordStepDependencies): Router {
  const { provider, pages, resets } = deps;
  const identifier = new LoginIdentifierCookie(deps.config.secure);
  const router = new Router({ prefix: '/interaction/:uid' });
  router.use(handleExpiredInteractions(pages, (uid) => `/interaction/${uid}/forgot`));
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));
  router.use(csrfProtection({ issuer: deps.config.issuer, secure: deps.config.secure }));

  async function loadLogin(ctx: Context): Promise<string | undefined> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params['uid']) throw new errors.SessionNotFound('interaction mismatch');
    ctx.state['locale'] = negotiateLocale(
      details.params['ui_locales'] as string | undefined,
      ctx.get('accept-language'),
    );
    // A sign-in: prompt=login, or prompt=create, whose sign-up page leads to the same login steps.
    if (details.prompt.name !== 'login' && details.prompt.name !== 'create') {
      ctx.redirect(`/interaction/${details.uid}`);
      ctx.status = 303;
      return undefined;
    }
    return details.uid;
  }

  router.get('/forgot', async (ctx) => {
    const uid = await loadLogin(ctx);
    if (!uid) return;
    await pages.render(ctx, 'forgot-password', {
      action: `/interaction/${uid}/forgot`,
      email: identifier.get(ctx, uid) ?? '',
      backUrl: `/interaction/${uid}`,
    });
  });

  router.post('/forgot', async (ctx) => {
    const uid = await loadLogin(ctx);
    if (!uid) return;
    const email = normalizeEmail(formField(ctx, 'email'));
    if (!isValidEmail(email)) {
      return pages.render(
        ctx,
        'forgot-password',
        { action: `/interaction/${uid}/forgot`, email, backUrl: `/interaction/${uid}`, error: 'email_invalid' },
        400,
      );
    }
    const outcome = await resets.requestReset({ email, ip: ctx.ip, locale: pages.localeOf(ctx), interactionUid: uid });
    if (outcome.kind === 'ip_limited') return renderLimited(ctx, pages, outcome.retryAfterSeconds);
    // The password step, when they come back to it, is for the email the link went to.
    identifier.set(ctx, uid, email);
    ctx.redirect(`/interaction/${uid}/forgot/sent`);
    ctx.status = 303;
  });

  router.get('/forgot/sent', async (ctx) => {
    const uid = await loadLogin(ctx);
    if (!uid) return;
    await pages.render(ctx, 'forgot-password-sent', { backUrl: `/interaction/${uid}` });
  });

  router.get('/password-changed', async (ctx) => {
    let uid: string | undefined;
    try {
      uid = await loadLogin(ctx);
    } catch (error) {
      if (!(error instanceof errors.SessionNotFound)) throw error;
      return pages.render(ctx, 'password-changed', {});
    }
    if (!uid) return;
    ctx.redirect(`/interaction/${uid}?notice=password_changed`);
    ctx.status = 303;
  });

  return router;
}
