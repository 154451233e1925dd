import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Provider from 'oidc-provider';
import { plainOidcContextRoutes, withPlainOidcContext } from '../../src/provider/plain-oidc-context.ts';

interface Seen {
  route?: string;
  descriptor?: PropertyDescriptor;
  /** Provider.ctx (oidc-provider's AsyncLocalStorage) was this request's context inside the route. */
  scoped?: boolean;
}

/** A provider on a port of its own; what each request's context held once the route ran. */
async function serve(t: import('ava').ExecutionContext, build: (config: object) => Provider) {
  const seen: Seen[] = [];
  const provider = build({
    // The error page runs inside the route (its error handler), so it sees the route's scope.
    async renderError(ctx: { body: unknown }) {
      seen.push({ scoped: Provider.ctx === ctx });
      ctx.body = 'error page';
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    seen.push({ route: ctx.oidc?.route, descriptor: Object.getOwnPropertyDescriptor(ctx, 'oidc') });
  });
  const server = http.createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { provider, seen, get: (path: string) => fetch(origin + path, { headers: { accept: 'text/html' } }) };
}

test.serial(
  'a provider built through withPlainOidcContext gets ctx.oidc as a plain read-only property on every route',
  async (t) => {
    const { provider, seen, get } = await serve(t, (config) =>
      withPlainOidcContext(() => new Provider('http://localhost:3998', config)),
    );
    t.true(plainOidcContextRoutes(provider) >= 10, `${plainOidcContextRoutes(provider)} routes replaced`);

    t.is((await get('/jwks')).status, 200);
    t.is((await get('/.well-known/openid-configuration')).status, 200);
    t.is((await get('/auth?client_id=nobody')).status, 400);
    const routes = seen.filter((s) => s.route);
    t.deepEqual(
      routes.map((s) => s.route),
      ['jwks', 'discovery', 'authorization'],
    );
    for (const { route, descriptor } of routes) {
      t.truthy(descriptor && 'value' in descriptor, `${route}: a data property`);
      t.false(descriptor?.writable, `${route}: read-only`);
      t.false(descriptor?.enumerable, `${route}: not enumerable, as oidc-provider's`);
    }
    t.deepEqual(
      seen.filter((s) => s.scoped !== undefined),
      [{ scoped: true }],
      'the route runs in the provider scope of its own request',
    );
  },
);

test.serial("a provider built without it in the same process keeps oidc-provider's own accessor", async (t) => {
  const { provider, seen, get } = await serve(t, (config) => new Provider('http://localhost:3997', config));
  t.is(plainOidcContextRoutes(provider), 0);
  t.is((await get('/jwks')).status, 200);
  t.is((await get('/auth?client_id=nobody')).status, 400);
  const routes = seen.filter((s) => s.route);
  t.deepEqual(
    routes.map((s) => s.route),
    ['jwks', 'authorization'],
  );
  for (const { descriptor } of routes) t.is(typeof descriptor?.get, 'function');
  t.deepEqual(
    seen.filter((s) => s.scoped !== undefined),
    [{ scoped: true }],
  );
});
