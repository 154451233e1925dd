import type { Middleware } from 'koa';

/** oidc-provider's route names whose requests take the shortcut. */
export const PROVIDER_API_ROUTES = ['token', 'introspection', 'revocation', 'userinfo', 'jwks', 'discovery'] as const;

/**
 * oidc-provider's API endpoints (token, introspection, revocation, userinfo, JWKS, discovery) answer
 * machines, not people: they need none of the page routers, locale, templates and notices that every
 * other request passes through (in a token request's CPU profile, that was a quarter of the work).
 * Placed right after the request id, metrics, client address and security headers, this sends such
 * requests straight to the provider's own chain; anything else goes on as before.
 */
export class ProviderShortcut {
  #provider: Middleware | undefined;

  constructor(private readonly paths: ReadonlySet<string>) {}

  middleware(): Middleware {
    return (ctx, next) => (this.#provider && this.paths.has(ctx.path) ? this.#provider(ctx, next) : next());
  }

  /** The provider's chain (built once every `provider.use` is done), also mounted last on the app. */
  serveWith(provider: Middleware): void {
    this.#provider = provider;
  }
}
