import Router from '@koa/router';
import type { Config } from '../config/config.ts';
import { seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import type { BrowserBinding } from './browser-binding.ts';
import type { FederationLogins } from './federation-logins.ts';
import { isProviderName } from './federation-settings.ts';
import type { UpstreamClients } from './upstream-client.ts';
import { UpstreamRefusal } from './upstream-identity.ts';

export interface FederationCallbackDependencies {
  config: Pick<Config, 'issuer'>;
  pages: PageRenderer;
  logger: Logger;
  upstreams: UpstreamClients;
  logins: FederationLogins;
  binding: BrowserBinding;
}

/** The redirect URI registered at each provider: `ISSUER/federation/<provider>/callback`. */
export function callbackUri(issuer: string, provider: string): string {
  return `${issuer}/federation/${provider}/callback`;
}

/**
 * Where Google and Microsoft send the browser back. The state is claimed once, by the browser that
 * started the sign-in; the code is redeemed here and only the checked identity is kept. The browser
 * then goes back into its interaction (whose cookie is scoped to /interaction/<uid>), which decides
 * between sign-in, sign-up and linking; a refusal ends on that interaction's error page, from
 * which the person can pick another way to sign in.
 */
export function federationCallbackRouter(deps: FederationCallbackDependencies): Router {
  const router = new Router();

  router.get('/federation/:provider/callback', async (ctx) => {
    const provider = ctx.params['provider'];
    const upstream = isProviderName(provider) ? deps.upstreams.get(provider) : undefined;
    if (!upstream || !isProviderName(provider)) return ctx.throw(404);
    const state = typeof ctx.query['state'] === 'string' ? ctx.query['state'] : '';
    const login = await deps.logins.claim(provider, state, deps.binding.get(ctx));
    if (!login) {
      // Reused, expired, forged, or opened in another browser: nothing to continue here.
      deps.logger.info(
        { event: 'federation.callback_unknown', provider },
        'upstream callback without a matching sign-in',
      );
      return deps.pages.render(ctx, 'federation-error', { provider, reason: 'expired', retryUrl: undefined }, 400);
    }
    // The URL as registered (from ISSUER, never the Host header) with the query the provider sent.
    const callback = new URL(callbackUri(deps.config.issuer, provider));
    callback.search = ctx.querystring;
    try {
      const identity = await upstream.finish(callback, { state, nonce: login.nonce, codeVerifier: login.codeVerifier });
      await deps.logins.authenticated(login.id, identity);
      deps.logger.info(
        {
          event: 'federation.authenticated',
          provider,
          uid: login.interactionUid,
          realm: identity.realm,
          amr: identity.amr,
          acr: identity.acr,
        },
        'upstream sign-in checked',
      );
      return seeOther(
        ctx,
        `/interaction/${login.interactionUid}/federation/continue?login=${encodeURIComponent(login.id)}`,
      );
    } catch (error) {
      await deps.logins.abandon(login.id);
      if (!(error instanceof UpstreamRefusal)) throw error;
      deps.logger.warn(
        {
          event: 'federation.refused',
          provider,
          uid: login.interactionUid,
          reason: error.reason,
          detail: error.message,
        },
        'upstream sign-in refused',
      );
      return seeOther(
        ctx,
        `/interaction/${login.interactionUid}/federation/error?provider=${provider}&reason=${error.reason}`,
      );
    }
  });

  return router;
}
