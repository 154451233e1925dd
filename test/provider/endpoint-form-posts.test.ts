import test from 'ava';
import { MAX_QUERY_LENGTH } from '../../src/provider/endpoint-form-posts.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES, type StoreKind } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';
const PASSWORD = 'correct horse battery';

async function setUp(t: import('ava').ExecutionContext, kind: StoreKind) {
  const store = await createTestStore(kind);
  const server = await startUmbral(store);
  t.teardown(async () => {
    await server.stop();
    await store.cleanup();
  });
  const portal = await server.registerClient({
    clientId: 'portal',
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [AFTER_LOGOUT],
  });
  await server.users.create({ email: 'ana@example.com', password: PASSWORD });
  const rp = await RelyingParty.discover(server.issuer, 'portal', portal.client_secret, REDIRECT);
  return { server, rp };
}

/** The parameters openid-client put in the authorization URL, as a form body instead. */
function asForm(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams);
}

for (const kind of JOURNEY_STORES) {
  test(`[${kind}] a form POST to /auth signs in and the portal gets its code`, async (t) => {
    const { server, rp } = await setUp(t, kind);
    const browser = new HttpBrowser({ 'accept-language': 'es-MX' });
    const request = await rp.authorizationRequest();
    const posted = await browser.request(`${server.issuer}/auth`, { form: asForm(request.url) });
    t.is(posted.status, 303);
    t.is(new URL(posted.headers.get('location')!, server.issuer).pathname, '/auth');
    const identifierPage = await browser.follow(posted, REDIRECT);
    const passwordPage = await browser.submit(identifierPage, '/identifier', { email: 'ana@example.com' }, REDIRECT);
    const callback = await browser.submit(passwordPage, '/password', { password: PASSWORD }, REDIRECT);
    const tokens = await rp.exchange(callback.url, request);
    t.truthy(tokens.id_token);
  });

  test(`[${kind}] a form POST to /session/end reaches the confirmation and ends the session`, async (t) => {
    const { server, rp } = await setUp(t, kind);
    const browser = new HttpBrowser({ 'accept-language': 'es-MX' });
    const login = await rp.signIn(browser, 'ana@example.com', PASSWORD);
    const tokens = await rp.exchange(login.callback.url, login.request);

    const posted = await browser.request(`${server.issuer}/session/end`, {
      form: { id_token_hint: tokens.id_token!, post_logout_redirect_uri: AFTER_LOGOUT, state: 'bye' },
    });
    t.is(posted.status, 303);
    const confirm = await browser.follow(posted, AFTER_LOGOUT);
    t.is(confirm.status, 200);
    t.regex(confirm.body, /¿Cerrar sesión\?/);
    // The confirmation's own form POSTs to /session/end/confirm, which oidc-provider still answers.
    const done = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' }, AFTER_LOGOUT);
    t.true(done.url.startsWith(AFTER_LOGOUT));
    t.is(new URL(done.url).searchParams.get('state'), 'bye');

    const silent = await rp.authorizationRequest({ prompt: 'none' });
    const result = await browser.open(silent.url, REDIRECT);
    t.is(new URL(result.url).searchParams.get('error'), 'login_required');
  });

  test(`[${kind}] a POST too large for a URL, or not a form, is refused with a clear page`, async (t) => {
    const { server, rp } = await setUp(t, kind);
    const browser = new HttpBrowser({ 'accept-language': 'es-MX' });
    const request = await rp.authorizationRequest({ login_hint: 'a'.repeat(MAX_QUERY_LENGTH) });
    const tooLarge = await browser.request(`${server.issuer}/auth`, { form: asForm(request.url) });
    t.is(tooLarge.status, 413);
    t.is(tooLarge.headers.get('location'), null);
    t.regex(tooLarge.body, /solicitud demasiado grande/);
    t.regex(tooLarge.body, /request_too_large/);

    const json = await browser.request(`${server.issuer}/session/end`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    t.is(json.status, 415);
    t.regex(json.body, /invalid_request/);
    // Nothing started: no interaction cookie was set by either.
    t.deepEqual(
      browser.cookieNames().filter((name) => name.includes('interaction')),
      [],
    );
  });
}
