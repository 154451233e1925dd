import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Config } from '../config/config.ts';
import type { Federation } from '../federation/federated-login.ts';
import { registerFederationRoutes } from '../federation/federation-interaction-routes.ts';
import { csrfProtection } from '../http/csrf.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { negotiateLocale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { Mfa } from '../mfa/mfa.ts';
import { registerSecondFactorRoutes } from '../mfa/second-factor-routes.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { EndedSessionNotice } from '../sessions/ended-session-notice.ts';
import type { SingleSessionPolicy } from '../sessions/single-session-policy.ts';
import type { Storage } from '../storage/database.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import { ConsentStep } from './consent-step.ts';
import { handleExpiredInteractions } from './expired-interactions.ts';
import { LoginCompletion } from './login-completion.ts';
import { LoginIdentifierCookie } from './login-identifier-cookie.ts';
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
  singleSession: SingleSessionPolicy;
  /** Why this browser's last session was ended, shown once on the login page. */
  sessionNotice: EndedSessionNotice;
  /** Sign-in with Google and Microsoft, when configured (src/federation). */
  federation?: Federation | undefined;
  /** Second factors (src/mfa): the factor step, passkey sign-in, enrollment for require-mfa portals. */
  mfa: Mfa;
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
    ctx.state['locale'] = negotiateLocale(
      details.params['ui_locales'] as string | undefined,
      ctx.get('accept-language'),
    );
    return details;
  }

  /** Sign-in or sign-up: prompt=login, or prompt=create (sign-up first, with a way to the login). */
  const signingIn = (details: InteractionDetails) =>
    details.prompt.name === 'login' || details.prompt.name === 'create';

  const federated = deps.federation
    ? registerFederationRoutes(router, { ...deps, federation: deps.federation, completion, verification }, load)
    : undefined;
  registerSecondFactorRoutes(router, { ...deps, gate: completion.secondFactor, completion }, load);

  router.get('/', async (ctx) => {
    const details = await load(ctx);
    if (signingIn(details)) {
      // Back from the emailed link in this browser, or verified meanwhile: the sign-in completes.
      const verified = await verification.completedLogin(ctx, details);
      if (verified) return completion.complete(ctx, details, verified);
      // Signed in with one factor, and this portal or request wants two: only the second is asked.
      const stepUp = completion.secondFactor.stepUpFirstFactor(details);
      if (stepUp) return completion.complete(ctx, details, stepUp);
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
    // An email of a domain routed to Google or Microsoft goes there; any other goes on as ever.
    if (await federated?.routeByDomain(ctx, details)) return;
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
