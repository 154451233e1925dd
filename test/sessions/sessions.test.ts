import test from 'ava';
import { decodeJwt } from 'jose';
import {
  type AccountWorld,
  accountWorlds,
  linkIn,
  mailsTo,
  openAccount,
  PASSWORD,
} from '../account/account-fixture.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';

const accountWorld = accountWorlds(test);

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

/** Signs `browser` in to the portal; returns the tokens and the ID token's sid. */
async function portalSignIn({ rp }: AccountWorld, browser: HttpBrowser, email = 'ana@example.com') {
  const { request, callback } = await rp.signIn(browser, email, PASSWORD);
  const tokens = await rp.exchange(callback.url, request);
  return { tokens, sid: tokens.claims()!['sid'] as string };
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] the sessions page lists devices and ends one, or all others`, async (t) => {
    const world = await accountWorld(kind);
    const { server, rp, receiver } = world;
    const laptop = new HttpBrowser({ 'user-agent': FIREFOX_LINUX, 'accept-language': 'es' });
    const iphone = new HttpBrowser({ 'user-agent': SAFARI_IPHONE, 'accept-language': 'es' });
    const tablet = new HttpBrowser({ 'accept-language': 'es' });
    const onLaptop = await portalSignIn(world, laptop);
    const onIphone = await portalSignIn(world, iphone);
    await portalSignIn(world, tablet);

    const list = await openAccount(server, laptop, '/account/sessions', 'ana@example.com', PASSWORD);
    t.is(list.status, 200);
    t.is([...list.body.matchAll(/class="session"/g)].length, 3);
    t.regex(list.body, /Firefox en Linux<\/strong> <span class="badge">Este dispositivo/);
    t.regex(list.body, /Safari en iOS/);
    t.regex(list.body, /Dirección IP: (::ffff:)?127\.0\.0\.1/);
    t.regex(list.body, /Aplicaciones: Portal de Beneficios/);

    // Ending someone else's session, or a made-up one, changes nothing.
    const other = await openAccount(server, new HttpBrowser(), '/account', 'ana@example.com', PASSWORD);
    t.is(other.status, 200);
    const iphoneUid = /data-session="([^"]+)">\s*<strong>Safari en iOS/.exec(list.body)![1]!;
    const endSession = async (session: string) =>
      laptop.follow(
        await laptop.request(`${server.issuer}/account/sessions/end`, { form: { _csrf: csrfOf(list.body), session } }),
      );
    const bogus = await endSession('no-such-session');
    t.notRegex(bogus.body, /Cerramos esa sesión/);
    t.is(receiver.tokens.length, 0);

    const ended = await endSession(iphoneUid);
    t.regex(ended.body, /Cerramos esa sesión/);
    t.notRegex(ended.body, /Safari en iOS/);
    const [token] = await receiver.waitFor(1);
    t.is(decodeJwt(token!)['sid'], onIphone.sid, 'the portal hears which session ended');
    await t.throwsAsync(rp.refresh(onIphone.tokens.refresh_token!), undefined, 'its refresh token is revoked');
    const told = await iphone.open((await rp.authorizationRequest()).url, rp.redirectUri);
    t.regex(told.body, /Se cerró tu sesión desde otro dispositivo/);

    const all = await laptop.submit(ended, '/account/sessions/end-others', {});
    t.regex(all.body, /Cerramos tus sesiones en los demás dispositivos/);
    t.is([...all.body.matchAll(/class="session"/g)].length, 1);
    await receiver.waitFor(2);
    // The laptop itself is still signed in to the portal.
    const refreshed = await rp.refresh(onLaptop.tokens.refresh_token!);
    t.truthy(refreshed.access_token);
  });

  test.serial(
    `[${kind}] single-session portal: a new sign-in ends the older browser's session, which is told why`,
    async (t) => {
      const world = await accountWorld(kind, { singleSession: true });
      const { rp, receiver } = world;
      const office = new HttpBrowser({ 'accept-language': 'es' });
      const home = new HttpBrowser({ 'accept-language': 'es' });
      const first = await portalSignIn(world, office);
      t.is(receiver.tokens.length, 0);

      await portalSignIn(world, home);
      const [token] = await receiver.waitFor(1);
      t.is(decodeJwt(token!)['sid'], first.sid);
      await t.throwsAsync(rp.refresh(first.tokens.refresh_token!));
      const next = await office.open((await rp.authorizationRequest()).url, rp.redirectUri);
      t.regex(next.body, /Se cerró tu sesión porque iniciaste sesión en otro dispositivo/);
      // Told once.
      const again = await office.open((await rp.authorizationRequest()).url, rp.redirectUri);
      t.notRegex(again.body, /Se cerró tu sesión/);

      // The same browser signing in again (prompt=login) keeps its own session.
      const relogin = await rp.signIn(home, 'ana@example.com', PASSWORD, { prompt: 'login' });
      t.truthy(new URL(relogin.callback.url).searchParams.get('code'));
      t.is(receiver.tokens.length, 1);
    },
  );

  test.serial(`[${kind}] SINGLE_SESSION=true applies to every portal; without it sessions coexist`, async (t) => {
    const plain = await accountWorld(kind);
    await portalSignIn(plain, new HttpBrowser());
    await portalSignIn(plain, new HttpBrowser());
    await plain.server.umbral.terminator.settled();
    t.is(plain.receiver.tokens.length, 0, 'no policy: both sessions live');
    const sessions = await plain.server.umbral.storage.db
      .selectFrom('oidc_models')
      .select('id')
      .where('model', '=', 'Session')
      .execute();
    t.is(sessions.length, 2);

    const strict = await accountWorld(kind, { env: { SINGLE_SESSION: 'true' } });
    await portalSignIn(strict, new HttpBrowser());
    await portalSignIn(strict, new HttpBrowser());
    await strict.receiver.waitFor(1);
    const left = await strict.server.umbral.storage.db
      .selectFrom('oidc_models')
      .select('id')
      .where('model', '=', 'Session')
      .execute();
    t.is(left.length, 1);
  });
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] a password reset tells the portals of every session it ends`, async (t) => {
    const world = await accountWorld(kind);
    const { server, rp, receiver } = world;
    const laptop = new HttpBrowser({ 'accept-language': 'es' });
    const signedIn = await portalSignIn(world, laptop);

    const someone = new HttpBrowser({ 'accept-language': 'es' });
    const form = await someone.open(`${server.issuer}/password/forgot`);
    await someone.submit(form, '/password/forgot', { email: 'ana@example.com' });
    let link: string | undefined;
    for (let tries = 0; !link && tries < 100; tries++) {
      link = (await mailsTo(server, 'ana@example.com'))
        .map((m) => linkIn(m, server.issuer, '/password/reset?token='))
        .find(Boolean);
      if (!link) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!link) return t.fail('no reset link mailed');
    const resetPage = await someone.open(link);
    await someone.submit(resetPage, '/password/reset', {
      password: 'marea alta en la bahía',
      password_confirmation: 'marea alta en la bahía',
    });

    const [token] = await receiver.waitFor(1);
    t.is(decodeJwt(token!)['sid'], signedIn.sid);
    await t.throwsAsync(rp.refresh(signedIn.tokens.refresh_token!));
    const told = await laptop.open((await rp.authorizationRequest()).url, rp.redirectUri);
    t.regex(told.body, /Se cerró tu sesión porque se cambió la contraseña de la cuenta/);
  });
}
