import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] RP-initiated logout ends the session and tells other portals over the back channel`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startUmbral(store, { ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
      const receiver = await startBackchannelReceiver();
      t.teardown(async () => {
        await receiver.close();
        await server.stop();
        await store.cleanup();
      });
      const portal = await server.registerClient({
        clientId: 'portal',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [AFTER_LOGOUT],
      });
      const crm = await server.registerClient({
        clientId: 'crm',
        redirectUris: [REDIRECT],
        backchannelLogoutUri: receiver.uri,
      });
      const user = await server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
      const portalRp = await RelyingParty.discover(server.issuer, 'portal', portal.client_secret, REDIRECT);
      const crmRp = await RelyingParty.discover(server.issuer, 'crm', crm.client_secret, REDIRECT);

      const browser = new HttpBrowser({ 'accept-language': 'es-MX,es;q=0.9' });
      const login = await portalRp.signIn(browser, 'ana@example.com', 'correct horse battery');
      const portalTokens = await portalRp.exchange(login.callback.url, login.request);
      // Single sign-on: the CRM gets in without a password, and its session id is what the back channel will name.
      const crmRequest = await crmRp.authorizationRequest();
      const crmCallback = await browser.open(crmRequest.url, REDIRECT);
      const crmTokens = await crmRp.exchange(crmCallback.url, crmRequest);
      const crmSid = crmTokens.claims()!['sid'];
      t.truthy(crmSid);

      const endSession = new URL(`${server.issuer}/session/end`);
      endSession.search = new URLSearchParams({
        id_token_hint: portalTokens.id_token!,
        post_logout_redirect_uri: AFTER_LOGOUT,
        state: 'bye',
      }).toString();
      const confirm = await browser.open(endSession.href, AFTER_LOGOUT);
      t.is(confirm.status, 200);
      t.regex(confirm.body, /¿Cerrar sesión\?/);
      const done = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' }, AFTER_LOGOUT);
      t.is(new URL(done.url).searchParams.get('state'), 'bye');

      const [token] = await receiver.waitFor(1);
      const { payload } = await jwtVerify(token!, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
        issuer: server.issuer,
        audience: 'crm',
      });
      t.is(payload.sub, user.id);
      t.is(payload['sid'], crmSid);
      t.truthy((payload['events'] as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);

      // The session is gone: a silent sign-in now needs a login.
      const silent = await portalRp.authorizationRequest({ prompt: 'none' });
      const result = await browser.open(silent.url, REDIRECT);
      t.is(new URL(result.url).searchParams.get('error'), 'login_required');
    },
  );
}
