import test from 'ava';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { federationWorlds, PASSWORD, TENANT_ACME } from '../federation/federation-world.ts';
import { isAt, signInWith } from '../federation/flow-helpers.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';

const federationWorld = federationWorlds(test);
const SCOPE = 'openid email profile organization';

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] allowed sign-in methods tell Google from Microsoft, at sign-in and for a session signed in already`,
    async (t) => {
      const world = await federationWorld(kind, { FEDERATION_AUTO_LINK: 'true', MICROSOFT_TRUST_EMAIL: 'true' });
      const { server, google, microsoft, rp } = world;
      const db = server.umbral.storage.db;
      const orgs = new OrganizationRepository(db);
      const memberships = new MembershipRepository(db);
      const ana = await server.users.create({ email: 'ana@acme.example', password: PASSWORD, emailVerified: true });
      const join = async (slug: string, signInMethods: Array<'password' | 'google' | 'microsoft' | 'passkey'>) => {
        const org = await orgs.create({
          name: `${slug} S.A.`,
          slug,
          activatesAt: new Date(Date.now() - 60_000),
          signInMethods,
        });
        await memberships.join({
          organizationId: org.row.id,
          userId: ana.id,
          roles: ['member'],
          invitedBy: 'operator',
        });
        return org.row;
      };
      const googleCo = await join('googleco', ['google']);
      const msCo = await join('msco', ['microsoft']);
      const viaGoogle = google.addAccount({ email: ana.email, emailVerified: true });
      const viaMicrosoft = microsoft.addAccount({ email: ana.email, tid: TENANT_ACME, edov: true });

      // Google, for the company that allows Google: in, with its claims.
      const browser = new HttpBrowser({ 'accept-language': 'es' });
      const allowed = await signInWith(world, browser, 'google', viaGoogle.login, {
        scope: SCOPE,
        organization: 'googleco',
      });
      t.true(isAt(allowed.page, world.redirectUri), allowed.page.body.slice(0, 300));
      const claims = (await rp.exchange(allowed.page.url, allowed.request)).claims()!;
      t.is(claims['org_id'], googleCo.id);
      t.deepEqual(claims.amr, ['fed']);

      // The same session, for another Google-only company: in without a page, since Umbral recorded
      // which provider the session used (amr says only "fed", which would need both allowed).
      const second = await join('googletoo', ['google']);
      const silent = await rp.authorizationRequest({ scope: SCOPE, organization: 'googletoo', prompt: 'none' });
      const through = await browser.open(silent.url, world.redirectUri);
      t.true(isAt(through, world.redirectUri));
      t.is((await rp.exchange(through.url, silent)).claims()!['org_id'], second.id);

      // The same Google session asks for the Microsoft-only company: refused, by the method it really used.
      const request = await rp.authorizationRequest({ scope: SCOPE, organization: 'msco' });
      const refused = await browser.open(request.url, world.redirectUri);
      t.is(refused.status, 403);
      t.regex(refused.body, /msco S\.A\. no permite ese método de inicio de sesión/);
      t.regex(refused.body, /Inicia sesión con: Microsoft\./);
      t.regex(refused.body, /href="\/session\/end"/);

      // Microsoft, in another browser, for that company: in. Google there is refused at sign-in.
      const other = new HttpBrowser({ 'accept-language': 'es' });
      const viaMs = await signInWith(world, other, 'microsoft', viaMicrosoft.login, {
        scope: SCOPE,
        organization: 'msco',
      });
      t.true(isAt(viaMs.page, world.redirectUri), viaMs.page.body.slice(0, 300));
      t.is((await rp.exchange(viaMs.page.url, viaMs.request)).claims()!['org_id'], msCo.id);
      const wrong = await signInWith(world, new HttpBrowser({ 'accept-language': 'es' }), 'google', viaGoogle.login, {
        scope: SCOPE,
        organization: 'msco',
      });
      t.is(wrong.page.status, 403);
      t.regex(wrong.page.body, /Usar otro método/);
      t.false(isAt(wrong.page, world.redirectUri));
    },
  );
}
