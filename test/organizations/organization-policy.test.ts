import test from 'ava';
import { decodeJwt } from 'jose';
import type * as oidc from 'openid-client';
import { generate } from 'otplib';
import { currentCode, enrollTotp } from '../mfa/mfa-fixture.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { atPortal, authorize, callbackError, newBrowser, organizationWorlds, signIn } from './organization-fixture.ts';

const world = organizationWorlds(test);

const ACR_MFA = 'urn:umbral:acr:mfa';

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a required portal refuses a person without an active organization, with a page offering to sign out`,
    async (t) => {
      const w = await world(kind);
      const ana = await w.createUser('ana@example.com');
      const rp = w.portals.required;
      const browser = newBrowser();
      const { callback: refused } = await signIn(rp, browser, ana.email);
      t.is(refused.status, 403);
      t.regex(refused.body, /Necesitas pertenecer a una empresa/);
      t.regex(refused.body, /Portal de Beneficios es solo para miembros de una empresa/);
      t.regex(refused.body, /Volver a Portal de Beneficios/);
      t.false(refused.url.startsWith(rp.redirectUri));
      t.deepEqual(await w.server.umbral.storage.db.selectFrom('organization_grants').selectAll().execute(), []);

      // Signed in elsewhere already: the same refusal, now with "Cerrar sesión"; prompt=none gets an error.
      const plain = w.portals.plain;
      const elsewhere = await signIn(plain, browser, ana.email, { scope: 'openid email' });
      t.true(atPortal(elsewhere.callback, plain));
      const silent = await authorize(rp, browser, { prompt: 'none' });
      t.is(callbackError(silent.page), 'interaction_required');
      const shown = await authorize(rp, browser);
      t.is(shown.page.status, 403);
      t.regex(shown.page.body, /Necesitas pertenecer a una empresa/);
      t.regex(shown.page.body, /<a class="button primary" href="\/session\/end">Cerrar sesión<\/a>/);
      const back = await browser.submit(shown.page, '/abort', {}, rp.redirectUri);
      t.is(callbackError(back), 'access_denied', '"Volver" tells the portal the sign-in did not happen');

      // A member of a suspended organization only: told it is not active, by name.
      const held = await w.createOrg('held', { name: 'Held Corp.' }, [{ userId: ana.id }]);
      await w.orgs.suspend(held.id);
      const inactive = await authorize(rp, browser);
      t.is(inactive.page.status, 403);
      t.regex(inactive.page.body, /El acceso de Held Corp\. no está activo/);
    },
  );

  test.serial(`[${kind}] an optional portal lets a person without organization in, without its claims`, async (t) => {
    const w = await world(kind);
    const ana = await w.createUser('ana@example.com');
    const rp = w.portals.optional;
    const browser = newBrowser();
    const { request, callback } = await signIn(rp, browser, ana.email);
    t.true(atPortal(callback, rp));
    const tokens = await rp.exchange(callback.url, request);
    t.false('org_id' in tokens.claims()!);
    t.is(tokens.claims()!.email, ana.email);

    // She joins one: the next authorization in the same session picks it up without asking.
    const acme = await w.createOrg('acme', {}, [{ userId: ana.id }]);
    const next = await authorize(rp, browser, { prompt: 'none' });
    t.true(atPortal(next.page, rp));
    t.is((await rp.exchange(next.page.url, next.request)).claims()!['org_id'], acme.id);
    const earlier = await t.throwsAsync(rp.refresh(tokens.refresh_token!));
    t.is((earlier as oidc.ResponseBodyError).error, 'invalid_grant', 'the grant without organization was replaced');
  });

  test.serial(
    `[${kind}] require_mfa: a member without a factor enrolls one during the sign-in; one with a factor is asked it`,
    async (t) => {
      const w = await world(kind);
      const ana = await w.createUser('ana@acme.example');
      const bea = await w.createUser('bea@acme.example');
      const acme = await w.createOrg('acme', { requireMfa: true }, [{ userId: ana.id }, { userId: bea.id }]);
      const rp = w.portals.required;

      const browser = newBrowser();
      const first = await signIn(rp, browser, ana.email);
      t.regex(first.callback.url, /\/interaction\/[^/]+\/mfa\/enroll$/, 'the organization, not the portal, wants it');
      const setup = await browser.submit(first.callback, '/mfa/enroll/totp', {});
      const secret = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(setup.body)![1]!.replace(/ /g, '');
      const codes = await browser.submit(setup, '/mfa/enroll/totp/confirm', { code: await generate({ secret }) });
      t.regex(codes.url, /\/mfa\/enroll\/codes$/);
      const enrolled = await browser.submit(codes, '/mfa/enroll/done', {}, rp.redirectUri);
      t.true(atPortal(enrolled, rp));
      const anaClaims = (await rp.exchange(enrolled.url, first.request)).claims()!;
      t.is(anaClaims.acr, ACR_MFA);
      t.is(anaClaims['org_id'], acme.id);

      const beaSecret = await enrollTotp(w.server, bea);
      const beaBrowser = newBrowser();
      const factor = await signIn(rp, beaBrowser, bea.email);
      t.regex(factor.callback.url, /\/mfa$/);
      const done = await beaBrowser.submit(
        factor.callback,
        '/mfa/totp',
        { code: await currentCode(beaSecret) },
        rp.redirectUri,
      );
      t.true(atPortal(done, rp));
      const claims = (await rp.exchange(done.url, factor.request)).claims()!;
      t.is(claims.acr, ACR_MFA);
      t.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
      t.is(claims['org_id'], acme.id);
    },
  );

  test.serial(
    `[${kind}] require_mfa of the organization steps a one-factor session up; prompt=none gets login_required`,
    async (t) => {
      const w = await world(kind);
      const cleo = await w.createUser('cleo@acme.example');
      const acme = await w.createOrg('acme', { requireMfa: true }, [{ userId: cleo.id }]);
      const browser = newBrowser();
      const plain = w.portals.plain;
      const first = await signIn(plain, browser, cleo.email, { scope: 'openid email' });
      t.true(atPortal(first.callback, plain), 'one factor is enough where no organization is involved');

      const rp = w.portals.required;
      t.is(callbackError((await authorize(rp, browser, { prompt: 'none' })).page), 'login_required');
      const seen = browser.history.length;
      const { request, page: enroll } = await authorize(rp, browser);
      t.regex(enroll.url, /\/mfa\/enroll$/, 'straight to the second factor (here its enrollment)');
      t.false(
        browser.history.slice(seen).some((p) => /action="[^"]*\/password"/.test(p.body)),
        'no password asked',
      );
      const setup = await browser.submit(enroll, '/mfa/enroll/totp', {});
      const secret = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(setup.body)![1]!.replace(/ /g, '');
      const codes = await browser.submit(setup, '/mfa/enroll/totp/confirm', { code: await generate({ secret }) });
      const done = await browser.submit(codes, '/mfa/enroll/done', {}, rp.redirectUri);
      t.true(atPortal(done, rp));
      const claims = (await rp.exchange(done.url, request)).claims()!;
      t.is(claims.acr, ACR_MFA);
      t.is(claims['org_id'], acme.id);
      t.true(atPortal((await authorize(rp, browser, { prompt: 'none' })).page, rp), 'the session now has two factors');
    },
  );

  test.serial(
    `[${kind}] a sign-in method the organization does not allow is refused on the server, with a clear page`,
    async (t) => {
      const w = await world(kind);
      const ana = await w.createUser('ana@acme.example');
      await w.createOrg('acme', { name: 'Acme S.A.', signInMethods: ['google', 'microsoft'] }, [{ userId: ana.id }]);
      const rp = w.portals.required;
      const browser = newBrowser();
      const { callback: refused } = await signIn(rp, browser, ana.email);
      t.is(refused.status, 403);
      t.regex(refused.body, /Acme S\.A\. no permite ese método de inicio de sesión/);
      t.regex(refused.body, /Inicia sesión con: Google, Microsoft\./);
      t.regex(refused.body, /href="\/interaction\/[^"]+">Usar otro método<\/a>/);
      t.false(refused.url.startsWith(rp.redirectUri));
      t.deepEqual(await w.server.umbral.storage.db.selectFrom('organization_grants').selectAll().execute(), []);

      // A password session made at another portal meets the same rule here; prompt=none an error.
      const plain = w.portals.plain;
      t.true(atPortal((await signIn(plain, browser, ana.email, { scope: 'openid' })).callback, plain));
      t.is(callbackError((await authorize(rp, browser, { prompt: 'none' })).page), 'interaction_required');
      const shown = await authorize(rp, browser);
      t.is(shown.page.status, 403);
      t.regex(shown.page.body, /no permite ese método/);
      t.regex(shown.page.body, /href="\/session\/end"/);

      // Allowed again by the operator: the same session gets through.
      const acme = (await w.orgs.find('acme'))!;
      await w.orgs.update(acme.row.id, { signInMethods: ['password'] });
      t.true(atPortal((await authorize(rp, browser, { prompt: 'none' })).page, rp));
    },
  );

  test.serial(
    `[${kind}] single_session: a member's new sign-in ends her other session, which is told why, and the portal hears it`,
    async (t) => {
      const w = await world(kind);
      const ana = await w.createUser('ana@acme.example');
      await w.createOrg('acme', { singleSession: true }, [{ userId: ana.id }]);
      const rp = w.portals.required;
      const office = newBrowser();
      const home = newBrowser();
      const first = await signIn(rp, office, ana.email);
      const officeTokens = await rp.exchange(first.callback.url, first.request);
      t.is(w.receiver.tokens.length, 0);

      const second = await signIn(rp, home, ana.email);
      t.true(atPortal(second.callback, rp));
      const [logout] = await w.receiver.waitFor(1);
      t.is(decodeJwt(logout!)['sid'], officeTokens.claims()!['sid']);
      await t.throwsAsync(rp.refresh(officeTokens.refresh_token!));
      const told = await office.open((await rp.authorizationRequest()).url, rp.redirectUri);
      t.regex(told.body, /Se cerró tu sesión porque iniciaste sesión en otro dispositivo/);

      // The browser that signed in keeps its session; without the policy, sessions coexist.
      t.true(atPortal((await authorize(rp, home, { prompt: 'none' })).page, rp));
      const bea = await w.createUser('bea@globex.example');
      await w.createOrg('globex', {}, [{ userId: bea.id }]);
      await signIn(rp, newBrowser(), bea.email);
      await signIn(rp, newBrowser(), bea.email);
      await w.server.umbral.terminator.settled();
      t.is(w.receiver.tokens.length, 1);
    },
  );
}
