import test from 'ava';
import type * as oidc from 'openid-client';
import { generate } from 'otplib';
import { formOf, type Page } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import {
  atPortal,
  authorize,
  callbackError,
  HOUR,
  newBrowser,
  type OrganizationWorld,
  organizationWorlds,
  signIn,
} from './organization-fixture.ts';

const world = organizationWorlds(test);

/** The organizations the picker offers, by name, in order. */
function offered(page: Page): string[] {
  return [...page.body.matchAll(/<button type="submit" name="organization" value="[^"]+"[^>]*>([^<]+)<\/button>/g)].map(
    (m) => m[1]!,
  );
}

function idOffered(page: Page, name: string): string {
  const match = new RegExp(`name="organization" value="([^"]+)"[^>]*>${name.replace(/\./g, '\\.')}<`).exec(page.body);
  if (!match) throw new Error(`${name} is not offered`);
  return match[1]!;
}

/** Ana, member of Acme and Globex (active), of a suspended one and a scheduled one; Initech is someone else's. */
async function anaOfTwo(w: OrganizationWorld) {
  const ana = await w.createUser('ana@acme.example');
  const bob = await w.createUser('bob@initech.example');
  const acme = await w.createOrg('acme', { name: 'Acme S.A.' }, [{ userId: ana.id }]);
  const globex = await w.createOrg('globex', { name: 'Globex Ltda.' }, [{ userId: ana.id, roles: ['admin'] }]);
  const held = await w.createOrg('held', { name: 'Held Corp.' }, [{ userId: ana.id }]);
  await w.orgs.suspend(held.id);
  await w.createOrg('later', { name: 'Later Inc.', activatesAt: new Date(Date.now() + 24 * HOUR) }, [
    { userId: ana.id },
  ]);
  await w.createOrg('initech', { name: 'Initech' }, [{ userId: bob.id }]);
  return { ana, acme, globex };
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a member of two organizations gets "Elige tu empresa" with only her active ones; organization= skips it`,
    async (t) => {
      const w = await world(kind);
      const { ana, globex } = await anaOfTwo(w);
      const rp = w.portals.required;

      const browser = newBrowser();
      const { request, callback: picker } = await signIn(rp, browser, ana.email);
      t.is(picker.status, 200);
      t.regex(picker.url, /\/interaction\/[^/]+\/organization$/);
      t.regex(picker.body, /<h1>Elige tu empresa<\/h1>/);
      t.regex(picker.body, /Elige con cuál quieres entrar a Portal de Beneficios/);
      t.deepEqual(offered(picker), ['Acme S.A.', 'Globex Ltda.'], 'suspended, scheduled and foreign ones are left out');
      const form = formOf(picker.body, '/organization');
      t.truthy(form.hidden['_csrf'], 'a POST form with its CSRF token, no JavaScript needed');

      const posted = await browser.request(new URL(form.action, picker.url).href, {
        form: { ...form.hidden, organization: idOffered(picker, 'Globex Ltda.') },
      });
      t.is(posted.status, 303, 'the form answers 303');
      const callback = await browser.follow(posted, rp.redirectUri);
      t.true(atPortal(callback, rp));
      t.like((await rp.exchange(callback.url, request)).claims(), { org_id: globex.id, org_roles: ['admin'] });

      const named = await signIn(rp, newBrowser(), ana.email, { organization: 'acme' });
      t.true(atPortal(named.callback, rp), 'named by the portal: no picker');
      t.is((await rp.exchange(named.callback.url, named.request)).claims()!['org_slug'], 'acme');
    },
  );

  test.serial(
    `[${kind}] the choice is remembered for the session at that portal, prompt=none included; a new organization= switches`,
    async (t) => {
      const w = await world(kind);
      const { ana, acme, globex } = await anaOfTwo(w);
      const rp = w.portals.required;
      const browser = newBrowser();
      const { request, callback: picker } = await signIn(rp, browser, ana.email);
      const chosen = await browser.submit(picker, '/organization', { organization: globex.id }, rp.redirectUri);
      const first = await rp.exchange(chosen.url, request);

      const again = await authorize(rp, browser);
      t.true(atPortal(again.page, rp), 'no picker the second time');
      t.is((await rp.exchange(again.page.url, again.request)).claims()!['org_id'], globex.id);
      const silent = await authorize(rp, browser, { prompt: 'none' });
      t.true(atPortal(silent.page, rp), 'prompt=none works while she is a member');
      t.is((await rp.exchange(silent.page.url, silent.request)).claims()!['org_id'], globex.id);

      // Switching: a new authorization naming another organization. Globex's tokens of this session end with it.
      const switched = await authorize(rp, browser, { organization: 'acme', prompt: 'none' });
      t.true(atPortal(switched.page, rp));
      const second = await rp.exchange(switched.page.url, switched.request);
      t.is(second.claims()!['org_id'], acme.id);
      const stale = await t.throwsAsync(rp.refresh(first.refresh_token!));
      t.is(
        (stale as oidc.ResponseBodyError).error,
        'invalid_grant',
        'an old token is never re-labelled: it is revoked',
      );
      t.is((await rp.refresh(second.refresh_token!)).claims()!['org_id'], acme.id);
      const remembered = await authorize(rp, browser, { prompt: 'none' });
      t.is((await rp.exchange(remembered.page.url, remembered.request)).claims()!['org_id'], acme.id);

      // Another portal of the same session remembers nothing yet: the picker, for the session already signed in.
      const other = w.portals.optional;
      const elsewhere = await authorize(other, browser, { prompt: 'none' });
      t.is(callbackError(elsewhere.page), 'interaction_required', 'prompt=none cannot show the picker');
      const asked = await authorize(other, browser);
      t.regex(asked.page.url, /\/organization$/);
      t.deepEqual(offered(asked.page), ['Acme S.A.', 'Globex Ltda.']);
      t.notRegex(asked.page.body, /action="[^"]*\/password"/, 'no password asked again');
      const done = await browser.submit(asked.page, '/organization', { organization: globex.id }, other.redirectUri);
      t.true(atPortal(done, other));
      t.is((await other.exchange(done.url, asked.request)).claims()!['org_id'], globex.id);
    },
  );

  test.serial(
    `[${kind}] picking an organization that requires a second factor asks it (enrollment here), at sign-in or signed in already`,
    async (t) => {
      const w = await world(kind);
      const { ana, acme, globex } = await anaOfTwo(w);
      await w.orgs.update(globex.id, { requireMfa: true });
      const rp = w.portals.required;
      const enrollAndFinish = async (browser: ReturnType<typeof newBrowser>, page: Page) => {
        t.regex(page.url, /\/mfa\/enroll$/);
        const setup = await browser.submit(page, '/mfa/enroll/totp', {});
        const secret = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(setup.body)![1]!.replace(/ /g, '');
        const codes = await browser.submit(setup, '/mfa/enroll/totp/confirm', { code: await generate({ secret }) });
        return browser.submit(codes, '/mfa/enroll/done', {}, rp.redirectUri);
      };

      const browser = newBrowser();
      const { request, callback: picker } = await signIn(rp, browser, ana.email);
      const enroll = await browser.submit(picker, '/organization', { organization: globex.id }, rp.redirectUri);
      const done = await enrollAndFinish(browser, enroll);
      t.true(atPortal(done, rp));
      t.like((await rp.exchange(done.url, request)).claims(), { org_id: globex.id, acr: 'urn:umbral:acr:mfa' });

      // Bea, signed in with one factor at a portal without organizations, picks Globex at this one.
      const bea = await w.createUser('bea@globex.example');
      for (const organizationId of [acme.id, globex.id]) {
        await w.memberships.join({ organizationId, userId: bea.id, roles: ['member'], invitedBy: null });
      }
      const beaBrowser = newBrowser();
      const plain = w.portals.plain;
      t.true(atPortal((await signIn(plain, beaBrowser, bea.email, { scope: 'openid' })).callback, plain));
      const asked = await authorize(rp, beaBrowser);
      t.regex(asked.page.url, /\/organization$/);
      const enrollBea = await beaBrowser.submit(
        asked.page,
        '/organization',
        { organization: globex.id },
        rp.redirectUri,
      );
      const beaDone = await enrollAndFinish(beaBrowser, enrollBea);
      t.true(atPortal(beaDone, rp));
      t.like((await rp.exchange(beaDone.url, asked.request)).claims(), {
        org_id: globex.id,
        acr: 'urn:umbral:acr:mfa',
      });
    },
  );

  test.serial(`[${kind}] the picker refuses an organization it did not offer, and grants nothing for it`, async (t) => {
    const w = await world(kind);
    const { ana, acme, globex } = await anaOfTwo(w);
    const rp = w.portals.required;
    const browser = newBrowser();
    const { request, callback: picker } = await signIn(rp, browser, ana.email);
    const initech = await w.orgs.find('initech');
    for (const value of [initech!.row.id, (await w.orgs.find('held'))!.row.id, 'nonsense']) {
      const refused = await browser.submit(picker, '/organization', { organization: value }, rp.redirectUri);
      t.is(refused.status, 400);
      t.regex(refused.body, /Elige una de las empresas de la lista/);
      t.false(refused.url.startsWith(rp.redirectUri));
    }
    t.deepEqual(await w.server.umbral.storage.db.selectFrom('organization_grants').selectAll().execute(), []);

    // Globex is suspended while the picker is open: picking it leaves the one active organization.
    await w.orgs.suspend(globex.id);
    const late = await browser.submit(picker, '/organization', { organization: globex.id }, rp.redirectUri);
    t.true(atPortal(late, rp));
    t.is((await rp.exchange(late.url, request)).claims()!['org_id'], acme.id);

    // Without the sign-in behind it, the picker is not there to post to.
    const stranger = newBrowser();
    const strangerRequest = await rp.authorizationRequest();
    const identifier = await stranger.open(strangerRequest.url, rp.redirectUri);
    const forged = await stranger.request(`${identifier.url}/organization`, {
      form: { _csrf: formOf(identifier.body, '/identifier').hidden['_csrf']!, organization: initech!.row.id },
    });
    t.is(forged.status, 303);
    t.false((forged.headers.get('location') ?? '').startsWith(rp.redirectUri));
  });
}
