import test from 'ava';
import { DomainRoutes } from '../../src/federation/domain-routes.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { federationWorlds, PASSWORD, TENANT_ACME } from './federation-world.ts';
import { continueAtProvider, isAt } from './flow-helpers.ts';

const federationWorld = federationWorlds(test);

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a routed domain goes straight to its provider with login_hint; unmapped domains behave exactly as before`,
    async (t) => {
      const world = await federationWorld(kind, { MICROSOFT_TRUST_EMAIL: 'true' });
      const { server, microsoft, rp } = world;
      await new DomainRoutes(server.umbral.storage.db).add('acme.example', 'microsoft');
      const account = microsoft.addAccount({ email: 'carlos@acme.example', tid: TENANT_ACME, edov: true });

      const browser = new HttpBrowser();
      const request = await rp.authorizationRequest();
      const identifier = await browser.open(request.url, world.redirectUri);
      const upstream = await browser.submit(
        identifier,
        '/identifier',
        { email: ' Carlos@ACME.example ' },
        world.redirectUri,
      );
      const routed = browser.history.find((p) => p.url.endsWith('/identifier'))!;
      t.is(routed.status, 303);
      const authorize = new URL(routed.headers.get('location')!);
      t.is(authorize.origin, microsoft.authority);
      t.is(authorize.searchParams.get('login_hint'), 'Carlos@ACME.example');
      t.is(authorize.searchParams.get('domain_hint'), 'ACME.example');
      t.regex(upstream.body, /value="Carlos@ACME\.example"/, 'the provider preselects the account');
      const page = await continueAtProvider(world, browser, upstream, account.login);
      const callback = await browser.submit(
        page,
        '/federation/signup',
        { name: 'Carlos', terms: 'accepted' },
        world.redirectUri,
      );
      t.true(isAt(callback, world.redirectUri), callback.url);
      t.deepEqual((await rp.exchange(callback.url, request)).claims()!.amr, ['fed']);

      // Unmapped domains: an existing account and an unknown email get the same answer, as they always did.
      await server.users.create({ email: 'bob@unmapped.example', password: PASSWORD, emailVerified: true });
      const answers = [];
      for (const email of ['bob@unmapped.example', 'nobody@unmapped.example']) {
        const other = new HttpBrowser();
        const start = await other.open((await rp.authorizationRequest()).url, world.redirectUri);
        const next = await other.submit(start, '/identifier', { email }, world.redirectUri);
        const post = other.history.find((p) => p.url.endsWith('/identifier'))!;
        answers.push({
          status: post.status,
          location: post.headers.get('location')!.replace(/\/interaction\/[^/?]+/, '/interaction/UID'),
          page: next.body
            .replaceAll(email, 'EMAIL')
            .replace(/\/interaction\/[^/"?]+/g, '/interaction/UID')
            .replace(/name="_csrf" value="[^"]+"/g, ''),
        });
      }
      t.is(answers[0]!.status, 303);
      t.is(answers[0]!.location, '/interaction/UID');
      t.regex(answers[0]!.page, /Escribe tu contraseña/);
      t.deepEqual(answers[0], answers[1]);
    },
  );
}
