import type Provider from 'oidc-provider';
import als from 'oidc-provider/lib/helpers/als.js';
import Router from 'oidc-provider/lib/helpers/router.js';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

/*
 * oidc-provider starts every route with ensureOIDC (lib/helpers/initialize_app.js), which gives
 * the request's Koa context its `oidc` through `Object.defineProperty(ctx, 'oidc', { get })` with
 * a new getter each time. V8 then builds a new hidden class for every context, in its old
 * generation, whose accessor holds that getter and through it the whole request; so every
 * request's objects outlive the young generation's collections and wait for a major one. Measured
 * on oidc-provider alone (2026-12-04, 32 connections, --trace-gc-nvp): /jwks promoted 24% of what
 * a request allocates, at 31,500/s; with a plain property 0%, at 46,400/s. Those major
 * collections, on a node's one core, set the token endpoint's tail at half load (BENCHMARKS.md).
 *
 * For the providers built through withPlainOidcContext, the same OIDCContext goes on the context
 * as a plain read-only property, inside the same AsyncLocalStorage scope. It is made at once
 * instead of on first use: each route's next middleware reads it anyway (the session save, the
 * error handler). Any other provider in the process keeps oidc-provider's own ensureOIDC.
 */

type Middleware = (ctx: never, next: () => Promise<unknown>) => unknown;
interface RouteContext {
  /** Set by oidc-provider's router before the route runs. */
  router: object;
}

const METHODS = ['get', 'post', 'put', 'delete', 'options'] as const;
const originalOf = new WeakMap<object, Middleware>();
const providerOf = new WeakMap<object, Provider>();
const replacedIn = new WeakMap<object, number>();

function ensurePlainOidc(ctx: RouteContext, next: () => Promise<unknown>): unknown {
  const provider = providerOf.get(ctx.router);
  if (!provider) return originalOf.get(ctx.router)?.(ctx as never, next);
  Object.defineProperty(ctx, 'oidc', { value: new provider.OIDCContext(ctx as never) });
  return als.run(ctx, next);
}

let installed = false;

/** Routes registered from now on start with ensurePlainOidc, which falls back to ensureOIDC for unbound providers. */
function install(): void {
  if (installed) return;
  installed = true;
  const proto = Router.prototype as unknown as Record<string, unknown>;
  for (const method of METHODS) {
    const register = proto[method] as (this: object, name: string, path: string, ...m: Middleware[]) => unknown;
    proto[method] = function (this: object, name: string, path: string, ...middleware: Middleware[]) {
      const first = middleware[0];
      if (first?.name === 'ensureOIDC') {
        originalOf.set(this, first);
        middleware[0] = ensurePlainOidc as Middleware;
        replacedIn.set(this, (replacedIn.get(this) ?? 0) + 1);
      }
      return register.call(this, name, path, ...middleware);
    };
  }
}

/** Builds a provider whose routes put `ctx.oidc` on the context as a plain property. */
export function withPlainOidcContext(build: () => Provider): Provider {
  install();
  const provider = build();
  const router = instance(provider)?.router;
  if (router && originalOf.has(router)) providerOf.set(router, provider);
  return provider;
}

/** How many of `provider`'s routes got the plain context (0: oidc-provider changed, and the tests say so). */
export function plainOidcContextRoutes(provider: Provider): number {
  const router = instance(provider)?.router;
  return router && providerOf.get(router) === provider ? (replacedIn.get(router) ?? 0) : 0;
}
