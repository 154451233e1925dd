// oidc-provider reads its signing keys once, from the `jwks` configuration. To reload them in a
// running server (src/provider/key-reload.ts) Umbral calls the function that reads them, which the
// package exports no name for. Checked against oidc-provider 9.13 by test/cluster/three-nodes.test.ts.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: unknown, jwks: { keys: unknown[] }): void;
}

// Each route's middleware list passes through these methods of oidc-provider's router, the first
// of them its ensureOIDC (src/provider/plain-oidc-context.ts). Checked against oidc-provider 9.13
// by test/provider/plain-oidc-context.test.ts.
declare module 'oidc-provider/lib/helpers/router.js' {
  type RouteMiddleware = (ctx: never, next: () => Promise<unknown>) => unknown;
  export default class Router {
    get(name: string, path: string, ...middleware: RouteMiddleware[]): this;
    post(name: string, path: string, ...middleware: RouteMiddleware[]): this;
    put(name: string, path: string, ...middleware: RouteMiddleware[]): this;
    delete(name: string, path: string, ...middleware: RouteMiddleware[]): this;
    options(name: string, path: string, ...middleware: RouteMiddleware[]): this;
  }
}

// The AsyncLocalStorage whose store is the request being served (Provider.ctx reads it).
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';

  const als: AsyncLocalStorage<unknown>;
  export default als;
}

// A provider's private state, its router among it (src/provider/plain-oidc-context.ts).
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  export default function instance(provider: unknown): { router?: object } | undefined;
}
