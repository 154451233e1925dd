import test from 'ava';
import type * as oidc from 'openid-client';
import { JOURNEY_STORES } from '../support/stores.ts';
import {
  atPortal,
  authorize,
  callbackError,
  HOUR,
  introspect,
  newBrowser,
  organizationWorlds,
  signIn,
  userinfo,
} from './organization-fixture.ts';

const world = organizationWorlds(test);

const ADMIN_PERMISSIONS = ['org:manage'];

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] the ID token, userinfo and introspection carry the organization, with the union of its roles' permissions`,
    async (t) => {
      const { server, portals, roles, memberships, createUser, createOrg } = await world(kind);
      const ana = await createUser('ana@acme.example');
      await roles.add({ name: 'supervisor', permissions: ['conversations:assign', 'reports.read'] });
      const acme = await createOrg('acme', { name: 'Acme S.A.' }, [{ userId: ana.id, roles: ['supervisor', 'admin'] }]);

      const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as {
        scopes_supported: string[];
        claims_supported: string[];
      };
      t.true(discovery.scopes_supported.includes('organization'));
      for (const claim of ['org_id', 'org_slug', 'org_name', 'org_roles', 'org_permissions']) {
        t.true(discovery.claims_supported.includes(claim), claim);
      }

      const rp = portals.required;
      const { request, callback } = await signIn(rp, newBrowser(), ana.email);
      t.true(atPortal(callback, rp), 'one active organization is chosen without asking');
      const tokens = await rp.exchange(callback.url, request);
      const expected = {
        org_id: acme.id,
        org_slug: 'acme',
        org_name: 'Acme S.A.',
        org_roles: ['admin', 'supervisor'],
        org_permissions: ['conversations:assign', ...ADMIN_PERMISSIONS, 'reports.read'].sort(),
      };
      t.like(tokens.claims(), { sub: ana.id, email: ana.email, ...expected });
      t.like(await userinfo(rp, tokens.access_token, ana.id), expected);
      const introspected = await introspect(rp, tokens.access_token);
      t.true(introspected.active);
      t.like(introspected, { sub: ana.id, ...expected });

      // Roles changed since: the next refresh says so, and the access token issued before keeps what it had.
      await memberships.setRoles(acme.id, ana.id, ['admin'], new Date());
      const refreshed = await rp.refresh(tokens.refresh_token!);
      t.like(refreshed.claims(), { org_roles: ['admin'], org_permissions: ADMIN_PERMISSIONS });
      t.like(await introspect(rp, refreshed.access_token), { org_roles: ['admin'] });
      t.like(await introspect(rp, tokens.access_token), { org_roles: ['admin', 'supervisor'] });
    },
  );

  test.serial(
    `[${kind}] the organization's country and tax id (compact, as stored) join its claims, and are listed in discovery`,
    async (t) => {
      const { server, portals, createUser, createOrg } = await world(kind);
      const ana = await createUser('ana@acme.example');
      await createOrg('acme', { name: 'Acme S.A.', country: 'AR', taxId: '30-50001091-2' }, [{ userId: ana.id }]);
      const bob = await createUser('bob@initech.example');
      await createOrg('initech', {}, [{ userId: bob.id }]);
      const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as {
        claims_supported: string[];
      };
      for (const claim of ['org_country', 'org_tax_id']) t.true(discovery.claims_supported.includes(claim), claim);

      const rp = portals.required;
      const signedIn = await signIn(rp, newBrowser(), ana.email);
      const tokens = await rp.exchange(signedIn.callback.url, signedIn.request);
      t.like(tokens.claims(), { org_slug: 'acme', org_country: 'AR', org_tax_id: '30500010912' });
      t.like(await userinfo(rp, tokens.access_token, ana.id), { org_country: 'AR', org_tax_id: '30500010912' });

      // Without a country or tax id the claims are absent, not null.
      const other = await signIn(rp, newBrowser(), bob.email);
      const claims = (await rp.exchange(other.callback.url, other.request)).claims()!;
      t.is(claims['org_slug'], 'initech');
      t.false('org_country' in claims);
      t.false('org_tax_id' in claims);
    },
  );

  test.serial(
    `[${kind}] without the organization scope a portal without the setting gets no organization claims`,
    async (t) => {
      const { portals, createUser, createOrg } = await world(kind);
      const ana = await createUser('ana@acme.example');
      await createOrg('acme', {}, [{ userId: ana.id }]);
      const rp = portals.plain;
      const { request, callback } = await signIn(rp, newBrowser(), ana.email, { scope: 'openid email' });
      t.true(atPortal(callback, rp));
      const tokens = await rp.exchange(callback.url, request);
      t.false('org_id' in tokens.claims()!);
      t.false('org_id' in (await introspect(rp, tokens.access_token)));

      // With the scope, the same portal gets them.
      const second = await signIn(rp, newBrowser(), ana.email);
      t.is((await rp.exchange(second.callback.url, second.request)).claims()!['org_slug'], 'acme');

      // Naming an organization is checked even without the scope: a portal may rely on it.
      const bob = await createUser('bob@initech.example');
      await createOrg('initech', {}, [{ userId: bob.id }]);
      const named = await signIn(rp, newBrowser(), ana.email, { scope: 'openid email', organization: 'initech' });
      t.is(named.callback.status, 403);
      t.regex(named.callback.body, /No puedes entrar con esa empresa/);
    },
  );

  test.serial(`[${kind}] a third-party portal asking the scope gets consent for it, then the claims`, async (t) => {
    const { portals, createUser, createOrg } = await world(kind);
    const ana = await createUser('ana@acme.example');
    const acme = await createOrg('acme', {}, [{ userId: ana.id }]);
    const rp = portals.third;
    const browser = newBrowser();
    const { request, callback: consent } = await signIn(rp, browser, ana.email);
    t.regex(consent.body, /App de Terceros quiere acceder a tu cuenta/);
    t.regex(consent.body, /Saber con qué empresa entras, y tus roles y permisos en ella/);
    const callback = await browser.submit(consent, '/consent', {}, rp.redirectUri);
    t.true(atPortal(callback, rp));
    t.is((await rp.exchange(callback.url, request)).claims()!['org_id'], acme.id);
    const silent = await authorize(rp, browser, { prompt: 'none' });
    t.true(atPortal(silent.page, rp), 'consented and remembered');
    t.is((await rp.exchange(silent.page.url, silent.request)).claims()!['org_id'], acme.id);
  });

  test.serial(`[${kind}] oidc-provider knows the organization client metadata and refuses other values`, async (t) => {
    const { server } = await world(kind);
    const base = { client_id: 'x', client_secret: 'a'.repeat(40), redirect_uris: ['https://x.example/cb'] };
    await t.notThrowsAsync(server.umbral.provider.Client.validate({ ...base, organization: 'optional' } as never));
    const refused = await t.throwsAsync(
      server.umbral.provider.Client.validate({ ...base, organization: 'yes' } as never),
    );
    t.is((refused as { error?: string }).error, 'invalid_client_metadata', 'what dynamic registration would answer');
    t.is((refused as { error_description?: string }).error_description, 'organization must be required or optional');
  });

  test.serial(`[${kind}] a strict portal gets the organization in userinfo only`, async (t) => {
    const { portals, createUser, createOrg } = await world(kind);
    const ana = await createUser('ana@acme.example');
    await createOrg('acme', {}, [{ userId: ana.id }]);
    const rp = portals.strict;
    const { request, callback } = await signIn(rp, newBrowser(), ana.email);
    const tokens = await rp.exchange(callback.url, request);
    t.false('org_id' in tokens.claims()!, 'a strict ID token keeps to the openid claims');
    t.is((await userinfo(rp, tokens.access_token, ana.id))['org_slug'], 'acme');
  });

  test.serial(
    `[${kind}] organization= picks the organization by slug or id; an unknown or foreign one is refused alike, nothing granted`,
    async (t) => {
      const { server, portals, createUser, createOrg } = await world(kind);
      const ana = await createUser('ana@acme.example');
      const bob = await createUser('bob@initech.example');
      const acme = await createOrg('acme', {}, [{ userId: ana.id }]);
      await createOrg('globex', {}, [{ userId: ana.id }]);
      await createOrg('initech', {}, [{ userId: bob.id }]);
      const rp = portals.required;

      const bySlug = await signIn(rp, newBrowser(), ana.email, { organization: 'globex' });
      t.true(atPortal(bySlug.callback, rp), 'named: no picker');
      t.is((await rp.exchange(bySlug.callback.url, bySlug.request)).claims()!['org_slug'], 'globex');
      const byId = await signIn(rp, newBrowser(), ana.email, { organization: acme.id });
      t.is((await rp.exchange(byId.callback.url, byId.request)).claims()!['org_slug'], 'acme');

      const grantsBefore = await server.umbral.storage.db.selectFrom('organization_grants').selectAll().execute();
      const foreign = await signIn(rp, newBrowser(), ana.email, { organization: 'initech' });
      const unknown = await signIn(rp, newBrowser(), ana.email, { organization: 'no-such-company' });
      for (const { callback } of [foreign, unknown]) {
        t.is(callback.status, 403);
        t.false(callback.url.startsWith(rp.redirectUri));
        t.regex(callback.body, /No puedes entrar con esa empresa/);
        t.regex(callback.body, /no existe, no está activa o tu cuenta no pertenece a ella/);
        t.regex(callback.body, /Volver a Portal de Beneficios/);
      }
      const withoutUid = (body: string) => body.replace(/\/interaction\/[^/"]+/g, '').replace(/value="[^"]+"/g, '');
      t.is(withoutUid(foreign.callback.body), withoutUid(unknown.callback.body), 'no way to tell the two apart');
      const grantsAfter = await server.umbral.storage.db.selectFrom('organization_grants').selectAll().execute();
      t.is(grantsAfter.length, grantsBefore.length, 'nothing granted');

      const malformed = await authorize(rp, newBrowser(), { organization: 'not a slug!' });
      t.is(callbackError(malformed.page), 'invalid_request');
      t.regex(
        new URL(malformed.page.url).searchParams.get('error_description') ?? '',
        /organization must be the id or the slug/,
      );
    },
  );

  test.serial(
    `[${kind}] once the organization is suspended, nothing is issued for it: refresh, code exchange, userinfo, introspection`,
    async (t) => {
      const { portals, orgs, memberships, createUser, createOrg } = await world(kind);
      const ana = await createUser('ana@acme.example');
      const acme = await createOrg('acme', {}, [{ userId: ana.id }]);
      const rp = portals.required;
      const browser = newBrowser();
      const first = await signIn(rp, browser, ana.email);
      const tokens = await rp.exchange(first.callback.url, first.request);
      const pending = await authorize(rp, browser);
      t.true(atPortal(pending.page, rp));

      await orgs.suspend(acme.id);
      const refusal = await t.throwsAsync(rp.refresh(tokens.refresh_token!));
      t.is((refusal as oidc.ResponseBodyError).error, 'invalid_grant');
      t.regex(
        (refusal as oidc.ResponseBodyError).error_description ?? '',
        /organization of this authorization is suspended/,
      );
      const exchange = await t.throwsAsync(rp.exchange(pending.page.url, pending.request));
      t.is((exchange as oidc.ResponseBodyError).error, 'invalid_grant', 'a code issued before is refused too');
      await t.throwsAsync(userinfo(rp, tokens.access_token, ana.id));
      t.false((await introspect(rp, tokens.access_token)).active);
      const silent = await authorize(rp, browser, { prompt: 'none' });
      t.is(callbackError(silent.page), 'interaction_required');

      // Lifted: the same refresh token works again. A member removed meanwhile gets nothing.
      await orgs.resume(acme.id);
      const again = await rp.refresh(tokens.refresh_token!);
      t.is(again.claims()!['org_slug'], 'acme');
      await memberships.remove(acme.id, ana.id, new Date());
      const removed = await t.throwsAsync(rp.refresh(again.refresh_token!));
      t.regex((removed as oidc.ResponseBodyError).error_description ?? '', /no longer counts the person as a member/);
    },
  );

  test.serial(
    `[${kind}] at ends_at (the clock moved) prompt=none fails and the refresh token is refused`,
    async (t) => {
      const w = await world(kind);
      const { portals, createUser, createOrg } = w;
      const ana = await createUser('ana@acme.example');
      await createOrg('acme', { endsAt: new Date(Date.now() + HOUR) }, [{ userId: ana.id }]);
      const rp = portals.required;
      const browser = newBrowser();
      const first = await signIn(rp, browser, ana.email);
      const tokens = await rp.exchange(first.callback.url, first.request);
      t.true(atPortal((await authorize(rp, browser, { prompt: 'none' })).page, rp), 'before the end prompt=none works');

      w.advance(2 * HOUR);
      const silent = await authorize(rp, browser, { prompt: 'none' });
      t.is(callbackError(silent.page), 'interaction_required');
      const refusal = await t.throwsAsync(rp.refresh(tokens.refresh_token!));
      t.regex((refusal as oidc.ResponseBodyError).error_description ?? '', /is ended/);
      const shown = await authorize(rp, browser);
      t.is(shown.page.status, 403);
      t.regex(shown.page.body, /El acceso de Acme S\.A\. no está activo/);
      t.regex(shown.page.body, /href="\/session\/end"/, 'a session signed in is offered to sign out');
    },
  );
}
