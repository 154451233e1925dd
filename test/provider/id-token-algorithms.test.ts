import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { generators, Issuer } from 'openid-client-5';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';
const PASSWORD = 'correct horse battery';

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] openid-client 5 with its default settings verifies an RS256 ID token that carries email and name`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startUmbral(store);
      t.teardown(async () => {
        await server.stop();
        await store.cleanup();
      });
      const registered = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
      await server.users.create({
        email: 'ana@example.com',
        password: PASSWORD,
        name: 'Ana Pérez',
        emailVerified: true,
      });

      // As a passport or next-auth 4 portal sets it up: client id, secret and redirect URI, nothing else.
      const issuer = await Issuer.discover(server.issuer);
      const client = new issuer.Client({
        client_id: 'portal',
        client_secret: registered.client_secret!,
        redirect_uris: [REDIRECT],
      });
      const codeVerifier = generators.codeVerifier();
      const state = generators.state();
      const nonce = generators.nonce();
      const authorizationUrl = client.authorizationUrl({
        scope: 'openid email profile',
        code_challenge: generators.codeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });

      const browser = new HttpBrowser();
      const identifierPage = await browser.open(authorizationUrl, REDIRECT);
      const passwordPage = await browser.submit(identifierPage, '/identifier', { email: 'ana@example.com' }, REDIRECT);
      const callback = await browser.submit(passwordPage, '/password', { password: PASSWORD }, REDIRECT);
      // openid-client 5 checks the signature against the JWKS, and the alg against RS256, its default.
      const tokens = await client.callback(REDIRECT, client.callbackParams(callback.url), {
        code_verifier: codeVerifier,
        state,
        nonce,
      });

      t.is(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
      const claims = tokens.claims();
      t.is(claims.email, 'ana@example.com');
      t.is(claims.email_verified, true);
      t.is(claims.name, 'Ana Pérez');
      t.is(claims.nonce, nonce);
      const userinfo = await client.userinfo(tokens);
      t.is(userinfo.email, 'ana@example.com', 'userinfo still has them too');
      t.is(userinfo.name, 'Ana Pérez');
    },
  );

  test.serial(
    `[${kind}] a portal registered with ES256 or EdDSA gets ID tokens and logout tokens signed with it`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startUmbral(store, { ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
      const receiver = await startBackchannelReceiver();
      t.teardown(async () => {
        await receiver.close();
        await server.stop();
        await store.cleanup();
      });
      const es = await server.registerClient({ clientId: 'es', redirectUris: [REDIRECT], idTokenSigningAlg: 'ES256' });
      const ed = await server.registerClient({
        clientId: 'ed',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [AFTER_LOGOUT],
        backchannelLogoutUri: receiver.uri,
        idTokenSigningAlg: 'EdDSA',
      });
      t.is(es['id_token_signed_response_alg'], 'ES256');
      t.is(ed['id_token_signed_response_alg'], 'EdDSA');
      const user = await server.users.create({ email: 'ana@example.com', password: PASSWORD });
      const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
      const browser = new HttpBrowser();

      const esRp = await RelyingParty.discover(server.issuer, 'es', es.client_secret, REDIRECT);
      const esLogin = await esRp.signIn(browser, 'ana@example.com', PASSWORD);
      const esToken = (await esRp.exchange(esLogin.callback.url, esLogin.request)).id_token!;
      const esVerified = await jwtVerify(esToken, jwks, {
        issuer: server.issuer,
        audience: 'es',
        algorithms: ['ES256'],
      });
      t.is(esVerified.protectedHeader.alg, 'ES256');
      t.is(esVerified.payload['email'], 'ana@example.com');

      // Single sign-on into the EdDSA portal, then a logout there: its back-channel token is EdDSA too.
      const edRp = await RelyingParty.discover(server.issuer, 'ed', ed.client_secret, REDIRECT);
      const edRequest = await edRp.authorizationRequest();
      const edCallback = await browser.open(edRequest.url, REDIRECT);
      const edToken = (await edRp.exchange(edCallback.url, edRequest)).id_token!;
      const edVerified = await jwtVerify(edToken, jwks, {
        issuer: server.issuer,
        audience: 'ed',
        algorithms: ['EdDSA'],
      });
      t.is(edVerified.protectedHeader.alg, 'EdDSA');
      t.is(edVerified.payload.sub, user.id);

      const endSession = new URL(`${server.issuer}/session/end`);
      endSession.search = new URLSearchParams({
        id_token_hint: edToken,
        post_logout_redirect_uri: AFTER_LOGOUT,
      }).toString();
      const confirm = await browser.open(endSession.href, AFTER_LOGOUT);
      await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' }, AFTER_LOGOUT);
      const [logoutToken] = await receiver.waitFor(1);
      const logout = await jwtVerify(logoutToken!, jwks, {
        issuer: server.issuer,
        audience: 'ed',
        algorithms: ['EdDSA'],
      });
      t.is(logout.protectedHeader.typ, 'logout+jwt');
      t.is(logout.payload.sub, user.id);
    },
  );
}
