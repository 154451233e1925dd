import type Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionDetails } from '../interactions/interactions-router.ts';
import { FederatedLink } from './federated-link.ts';
import { FederatedLogin, type FederatedLoginDependencies } from './federated-login.ts';
import { FederatedSignUp } from './federated-signup.ts';
import { isProviderName } from './federation-settings.ts';

type Body = Record<string, unknown> | undefined;

/**
 * The federation steps inside an interaction (`/interaction/<uid>/federation/…`), added to the
 * interactions router so they share its CSRF check, body parsing and expired-interaction pages.
 * `load` binds the interaction to this browser; every step is for a sign-in (or sign-up) prompt.
 */
export function registerFederationRoutes(
  router: Router,
  deps: FederatedLoginDependencies,
  load: (ctx: Context) => Promise<InteractionDetails>,
): FederatedLogin {
  const login = new FederatedLogin(deps);
  const signUp = new FederatedSignUp(deps, login);
  const link = new FederatedLink(deps, login);

  const signingIn = (details: InteractionDetails) =>
    details.prompt.name === 'login' || details.prompt.name === 'create';
  async function loadSigningIn(ctx: Context): Promise<InteractionDetails | undefined> {
    const details = await load(ctx);
    if (signingIn(details)) return details;
    ctx.redirect(`/interaction/${details.uid}`);
    ctx.status = 303;
    return undefined;
  }
  const loginId = (ctx: Context) => (ctx.request as { body?: Body }).body?.['login'] ?? ctx.query['login'];

  // A button of the login or sign-up page: a POST with the CSRF token, so no other site can start it.
  router.post('/federation/:provider/start', async (ctx) => {
    const details = await loadSigningIn(ctx);
    if (!details) return;
    const provider = ctx.params['provider'];
    if (!isProviderName(provider)) return ctx.throw(404);
    await login.start(ctx, details, provider);
  });

  router.get('/federation/continue', async (ctx) => {
    const details = await loadSigningIn(ctx);
    if (details) await login.continue(ctx, details);
  });

  router.get('/federation/signup', async (ctx) => {
    const details = await loadSigningIn(ctx);
    if (!details) return;
    const pending = await login.pending(ctx, details, loginId(ctx));
    if (!pending) return login.showError(ctx, details, '', 'expired');
    await signUp.show(ctx, details, pending);
  });

  router.post('/federation/signup', async (ctx) => {
    const details = await loadSigningIn(ctx);
    if (!details) return;
    const pending = await login.pending(ctx, details, loginId(ctx));
    if (!pending) return login.showError(ctx, details, '', 'expired');
    await signUp.submit(ctx, details, pending);
  });

  router.get('/federation/link', async (ctx) => {
    const details = await loadSigningIn(ctx);
    if (!details) return;
    const pending = await login.pending(ctx, details, loginId(ctx));
    if (!pending) return login.showError(ctx, details, '', 'expired');
    await link.show(ctx, details, pending, ctx.query['error'] === 'credentials' ? 'credentials' : undefined);
  });

  router.post('/federation/link', async (ctx) => {
    const details = await loadSigningIn(ctx);
    if (!details) return;
    const pending = await login.pending(ctx, details, loginId(ctx));
    if (!pending) return login.showError(ctx, details, '', 'expired');
    await link.submit(ctx, details, pending);
  });

  // Where a refused callback lands: the reason in the person's language, and a way back to the other methods.
  router.get('/federation/error', async (ctx) => {
    const details = await load(ctx);
    const status = ctx.query['reason'] === 'unavailable' ? 502 : 400;
    await login.showError(ctx, details, String(ctx.query['provider'] ?? ''), String(ctx.query['reason'] ?? ''), status);
  });

  return login;
}
