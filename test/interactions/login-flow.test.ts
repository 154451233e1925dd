import test from 'ava';
import * as oidc from 'openid-client';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] a portal signs a user in with code + PKCE through the hosted pages`, async (t) => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store);
    t.teardown(async () => {
      await server.stop();
      await store.cleanup();
    });
    const client = await server.registerClient({
      clientId: 'portal',
      redirectUris: [REDIRECT],
      name: 'Portal de Clientes',
    });
    const user = await server.users.create({
      email: 'Ana@Example.com',
      password: 'correct horse battery',
      name: 'Ana Pérez',
      emailVerified: true,
    });
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
    const browser = new HttpBrowser();

    const { request, identifierPage, passwordPage, callback } = await rp.signIn(
      browser,
      'ana@example.COM',
      'correct horse battery',
      {
        scope: 'openid email profile phone',
      },
    );

    t.is(identifierPage.status, 200);
    t.regex(identifierPage.body, /Siguiente/);
    t.regex(identifierPage.body, /autocomplete="username"/);
    t.regex(identifierPage.body, /Portal de Clientes/);
    t.is(passwordPage.status, 200);
    t.regex(passwordPage.body, /ana@example\.COM/, 'the chosen email is shown');
    t.regex(passwordPage.body, /Usar otra cuenta/);
    t.regex(passwordPage.body, /autocomplete="current-password"/);
    const passwordPost = browser.history.find((p) => p.url.endsWith('/password'))!;
    t.is(passwordPost.status, 303, '303 after the credential POST');

    const tokens = await rp.exchange(callback.url, request);
    const claims = tokens.claims()!;
    t.is(claims.sub, user.id);
    t.is(claims.iss, server.issuer);
    t.deepEqual(claims.amr, ['pwd']);
    t.truthy(tokens.refresh_token, 'first-party portals with the refresh_token grant get a refresh token');
    const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
    t.is(userinfo.email, 'Ana@Example.com');
    t.is(userinfo.email_verified, true);
    t.is(userinfo.name, 'Ana Pérez');
  });

  test.serial(`[${kind}] sessions: prompt=none, prompt=login, max_age and "usar otra cuenta"`, async (t) => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store);
    t.teardown(async () => {
      await server.stop();
      await store.cleanup();
    });
    const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
    await server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);

    // prompt=none without a session: login_required back to the portal, no page shown.
    const stranger = new HttpBrowser();
    const silent = await rp.authorizationRequest({ prompt: 'none' });
    const silentResult = await stranger.open(silent.url, REDIRECT);
    t.is(new URL(silentResult.url).searchParams.get('error'), 'login_required');

    const browser = new HttpBrowser();
    const first = await rp.signIn(browser, 'ana@example.com', 'correct horse battery');
    const firstTokens = await rp.exchange(first.callback.url, first.request);

    // With a session, prompt=none succeeds silently.
    const again = await rp.authorizationRequest({ prompt: 'none' });
    const againResult = await browser.open(again.url, REDIRECT);
    t.truthy(new URL(againResult.url).searchParams.get('code'));
    const againTokens = await rp.exchange(againResult.url, again);
    t.is(againTokens.claims()!.auth_time, firstTokens.claims()!.auth_time);

    // prompt=login and max_age=0 both ask for the password again.
    for (const params of [{ prompt: 'login' }, { max_age: '0' }] as Array<Record<string, string>>) {
      const request = await rp.authorizationRequest(params);
      const page = await browser.open(request.url, REDIRECT);
      t.is(page.status, 200, JSON.stringify(params));
      t.regex(
        page.body,
        /action="\/interaction\/[^"]+\/identifier"/,
        `re-authentication asked for ${JSON.stringify(params)}`,
      );
      t.regex(page.body, /value="ana@example.com"/, 'the signed-in email is offered');
    }

    // "Usar otra cuenta" goes back to the identifier step.
    const request = await rp.authorizationRequest({ prompt: 'login' });
    const identifier = await browser.open(request.url, REDIRECT);
    const passwordPage = await browser.submit(identifier, '/identifier', { email: 'otro@example.com' });
    const link = /href="([^"]*step=identifier)"/.exec(passwordPage.body)![1]!;
    const back = await browser.open(new URL(link, passwordPage.url).href);
    t.regex(back.body, /action="\/interaction\/[^"]+\/identifier"/);
  });

  test.serial(`[${kind}] consent is asked of third-party clients only, and can be refused`, async (t) => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store);
    t.teardown(async () => {
      await server.stop();
      await store.cleanup();
    });
    const client = await server.registerClient({
      clientId: 'crm',
      redirectUris: [REDIRECT],
      firstParty: false,
      name: 'CRM',
    });
    await server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
    const rp = await RelyingParty.discover(server.issuer, 'crm', client.client_secret, REDIRECT);

    const refusing = new HttpBrowser();
    const refused = await rp.signIn(refusing, 'ana@example.com', 'correct horse battery');
    t.regex(refused.callback.body, /CRM quiere acceder a tu cuenta/);
    t.regex(refused.callback.body, /Ver tu correo electrónico/);
    const denied = await refusing.submit(refused.callback, '/abort', {}, REDIRECT);
    t.is(new URL(denied.url).searchParams.get('error'), 'access_denied');

    const browser = new HttpBrowser();
    const { request, callback: consentPage } = await rp.signIn(browser, 'ana@example.com', 'correct horse battery');
    const callback = await browser.submit(consentPage, '/consent', {}, REDIRECT);
    const tokens = await rp.exchange(callback.url, request);
    t.truthy(tokens.id_token);
    t.is(tokens.refresh_token, undefined, 'third parties get refresh tokens only with offline_access');

    // Consent is remembered: the next sign-in goes straight back.
    const next = await rp.authorizationRequest();
    const nextResult = await browser.open(next.url, REDIRECT);
    t.truthy(new URL(nextResult.url).searchParams.get('code'));
  });
}
