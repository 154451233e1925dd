import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import Provider, { errors } from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { csrfProtection } from '../http/csrf.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { negotiateLocale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { Storage } from '../storage/database.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import { handleExpiredInteractions } from './expired-interactions.ts';
import { LoginIdentifierCookie } from './login-identifier-cookie.ts';
import { ConsentStep } from './consent-step.ts';
import { LoginCompletion } from './login-completion.ts';
import { PasswordLogin } from './password-login.ts';
import { SignUpStep } from './sign-up-step.ts';
import { VerificationStep } from './verification-step.ts';

export interface InteractionDependencies {
  config: Config;
  provider: Provider;
  storage: Storage;
  pages: PageRenderer;
  throttle: LoginThrottle;
  mailer: Mailer;
  logger: Logger;
}

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * The hosted pages behind oidc-provider's prompts: identifier-first login
 * (email → Siguiente → password) and consent. Every POST answers 303.
 */
export function interactionsRouter(deps: InteractionDependencies): Router {
  const { provider, pages } = deps;
  const identifierCookie = new LoginIdentifierCookie(deps.config.secure);
  const verification = new VerificationStep(deps);
  const passwordLogin = new PasswordLogin(deps, identifierCookie, verification);
  const signUp = new SignUpStep(deps, verification);
  const consent = new ConsentStep(deps);
  const completion = new LoginCompletion(deps);

  const router = new Router({ prefix: '/interaction/:uid' });
  router.use(handleExpiredInteractions(pages, (uid) => `/interaction/${uid}`));
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));
  router.use(csrfProtection({ issuer: deps.config.issuer, secure: deps.config.secure }));

  /** Loads the interaction bound to this browser, and speaks the language it asked for. */
  async function load(ctx: Context): Promise<InteractionDetails> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params['uid']) throw new errors.SessionNotFound('interaction mismatch');
    ctx.state['locale'] = negotiateLocale(details.params['ui_locales'] as string | undefined, ctx.get('accept-language'));
    return details;
  }


  /** Sign-in or sign-up: prompt=login, or prompt=create (sign-up first, with a way to the login). */
  const signingIn = (details: InteractionDetails) => details.prompt.name === 'login' || details.prompt.name === 'create';

  router.get('/', async (ctx) => {
    const details = await load(ctx);
    if (signingIn(details)) {
      // Back from the emailed link in this browser, or verified meanwhile: the sign-in completes.
      const verified = await verification.completedLogin(ctx, details);
      if (verified) return completion.complete(ctx, details, verified);
      const wantsLogin = ctx.query['step'] === 'identifier' || identifierCookie.get(ctx, details.uid) !== undefined;
      if (details.prompt.name === 'create' && !wantsLogin) return signUp.show(ctx, details);
      return passwordLogin.show(ctx, details);
    }
    if (details.prompt.name === 'consent') return consent.show(ctx, details);
    throw new errors.SessionNotFound(`unsupported prompt ${details.prompt.name}`);
  });

  router.post('/identifier', async (ctx) => {
    const details = await load(ctx);
    if (!signingIn(details)) return seeOther(ctx);
    await passwordLogin.submitIdentifier(ctx, details);
  });

  router.post('/password', async (ctx) => {
    const details = await load(ctx);
    if (!signingIn(details)) return seeOther(ctx);
    const result = await passwordLogin.submitPassword(ctx, details);
    if (result) await completion.complete(ctx, details, result);
  });

  router.get('/signup', async (ctx) => {
    const details = await load(ctx);
    if (!signingIn(details)) return seeOther(ctx);
    await signUp.show(ctx, details);
  });

  router.post('/signup', async (ctx) => {
    const details = await load(ctx);
    if (!signingIn(details)) return seeOther(ctx);
    await signUp.submit(ctx, details);
  });

  router.get('/verify', async (ctx) => {
    const details = await load(ctx);
    if (!signingIn(details)) return seeOther(ctx);
    const verified = await verification.completedLogin(ctx, details);
    if (verified) return completion.complete(ctx, details, verified);
    await verification.show(ctx, details);
  });

  router.post('/verify', async (ctx) => {
    const details = await load(ctx);
    if (!signingIn(details)) return seeOther(ctx);
    const result = await verification.submitCode(ctx, details);
    if (result) await completion.complete(ctx, details, result);
  });

  router.post('/verify/resend', async (ctx) => {
    const details = await load(ctx);
    if (!signingIn(details)) return seeOther(ctx);
    await verification.resend(ctx, details);
  });

  router.post('/consent', async (ctx) => {
    const details = await load(ctx);
    if (details.prompt.name !== 'consent') return seeOther(ctx);
    await completion.finish(ctx, await consent.grant(details), true);
  });

  router.post('/abort', async (ctx) => {
    await load(ctx);
    await completion.finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
  });

  return router;
}

/** Back to the interaction's current step (e.g. a form resubmitted after the step changed). */
function seeOther(ctx: Context): void {
  ctx.redirect(`/interaction/${ctx.params['uid']}`);
  ctx.status = 303;
}
