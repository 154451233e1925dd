import type { Context } from 'koa';
import { z } from 'zod';
import { readForm } from '../http/form.ts';
import {
  type IdentifierRouting,
  type InteractionDetails,
  InteractionError,
  type InteractionRoute,
  type SignInStep,
  type StepOutcome,
  type UpstreamSignInStart,
} from '../interactions/interaction.ts';
import { FederatedLink, type FederatedLinkDependencies } from './federated-link.ts';
import { FederatedLogin, type FederatedLoginDependencies } from './federated-login.ts';
import { FederatedSignUp, type FederatedSignUpDependencies } from './federated-signup.ts';
import type { AuthenticatedLogin } from './federation-logins.ts';
import { isProviderName } from './federation-settings.ts';

export type FederationStepDependencies = FederatedLoginDependencies &
  FederatedSignUpDependencies &
  FederatedLinkDependencies;

/**
 * The upstream sign-in a request names: the forms' hidden `login` field; without one (the GETs
 * after the callback), the URL's `?login=`.
 */
const loginForm = z.object({ login: z.string().optional().catch(undefined) });

/**
 * Sign in with Google or Microsoft, as a step of the sign-in (`/interaction/<uid>/federation/…`):
 * the buttons' start, the way back from the callback, and the sign-up and link pages that may
 * follow. A sign-in that passes answers `outcome.login`, so the second-factor step and the rest
 * apply as after a password. `identifierRouting` sends the identifier step's routed domains to
 * their provider.
 */
export class FederationStep implements SignInStep {
  readonly name = 'federation';
  readonly routes: readonly InteractionRoute[];
  /** For the password step: an email of a domain routed to Google or Microsoft goes there. */
  readonly identifierRouting: IdentifierRouting;
  /** For other steps (an invitation's "Continuar con Google"): the upstream sign-in, started from their page. */
  readonly upstreamStart: UpstreamSignInStart;

  constructor(deps: FederationStepDependencies) {
    const login = new FederatedLogin(deps);
    const signUp = new FederatedSignUp(deps, login);
    const link = new FederatedLink(deps, login);
    this.identifierRouting = login;
    this.upstreamStart = {
      names: () => deps.federation.upstreams.names(),
      start: async (ctx, details, provider, loginHint) => {
        if (!isProviderName(provider)) throw new InteractionError('not_found', `no upstream provider ${provider}`);
        return login.start(ctx, details, provider, loginHint);
      },
    };

    /** The page for the upstream sign-in this request names; the expired page when it has ended or is another's. */
    const withPending =
      (page: (ctx: Context, details: InteractionDetails, pending: AuthenticatedLogin) => Promise<StepOutcome>) =>
      async (ctx: Context, details: InteractionDetails): Promise<StepOutcome> => {
        const id = readForm(ctx, loginForm).login ?? ctx.query['login'];
        const pending = await login.pending(ctx, details, id);
        if (!pending) return login.errorPage(details, '', 'expired');
        return page(ctx, details, pending);
      };

    this.routes = [
      // A button of the login or sign-up page: a POST with the CSRF token, so no other site can start it.
      {
        method: 'post',
        path: '/federation/:provider/start',
        handle: async (ctx, details) => {
          const provider = ctx.params['provider'];
          if (!isProviderName(provider)) throw new InteractionError('not_found', `no upstream provider ${provider}`);
          return login.start(ctx, details, provider);
        },
      },
      { method: 'get', path: '/federation/continue', handle: (ctx, details) => login.continue(ctx, details) },
      {
        method: 'get',
        path: '/federation/signup',
        handle: withPending((ctx, details, pending) => signUp.show(ctx, details, pending)),
      },
      {
        method: 'post',
        path: '/federation/signup',
        handle: withPending((ctx, details, pending) => signUp.submit(ctx, details, pending)),
      },
      {
        method: 'get',
        path: '/federation/link',
        handle: withPending(async (ctx, details, pending) =>
          link.show(details, pending, ctx.query['error'] === 'credentials' ? 'credentials' : undefined),
        ),
      },
      {
        method: 'post',
        path: '/federation/link',
        handle: withPending((ctx, details, pending) => link.submit(ctx, details, pending)),
      },
      // Where a refused callback lands, whatever the prompt: the reason in the person's language,
      // and a way back to the other methods.
      {
        method: 'get',
        path: '/federation/error',
        during: 'any',
        handle: async (ctx, details) => {
          const reason = String(ctx.query['reason'] ?? '');
          const status = reason === 'unavailable' ? 502 : 400;
          // The upstream refused (denied, wrong tenant…): nobody of ours is known yet.
          if (reason && reason !== 'expired') login.refused(ctx, details, String(ctx.query['provider'] ?? ''), reason);
          return login.errorPage(details, String(ctx.query['provider'] ?? ''), reason, status);
        },
      },
    ];
  }
}
