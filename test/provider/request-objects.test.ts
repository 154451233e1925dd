import type { ExecutionContext } from 'ava';
import test from 'ava';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import * as oidc from 'openid-client';
import { formOf, HttpBrowser } from '../support/http-browser.ts';
import { createTestStore, JOURNEY_STORES, type StoreKind } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'correct horse battery';
const ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'];

/** Umbral with a portal registered by its public key (private_key_jwt), and openid-client as that portal. */
async function setUp(t: ExecutionContext, kind: StoreKind) {
  const store = await createTestStore(kind);
  const server = await startUmbral(store);
  t.teardown(async () => {
    await server.stop();
    await store.cleanup();
  });
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'portal-1', alg: 'ES256', use: 'sig' };
  const registered = await server.registerClient({
    clientId: 'signed',
    redirectUris: [REDIRECT],
    keys: { jwks: { keys: [jwk] } },
  });
  await server.users.create({ email: 'ana@example.com', password: PASSWORD });
  const config = await oidc.discovery(
    new URL(server.issuer),
    'signed',
    undefined,
    oidc.PrivateKeyJwt({ key: privateKey, kid: 'portal-1' }),
    { execute: [oidc.allowInsecureRequests] },
  );
  return { server, registered, config, privateKey: { key: privateKey, kid: 'portal-1' } };
}

async function requestParameters() {
  const verifier = oidc.randomPKCECodeVerifier();
  const parameters = {
    redirect_uri: REDIRECT,
    scope: 'openid email',
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
  };
  return { parameters, verifier };
}

async function signInAt(browser: HttpBrowser, url: string) {
  const identifierPage = await browser.open(url, REDIRECT);
  const passwordPage = await browser.submit(identifierPage, '/identifier', { email: 'ana@example.com' }, REDIRECT);
  return browser.submit(passwordPage, '/password', { password: PASSWORD }, REDIRECT);
}

for (const kind of JOURNEY_STORES) {
  test(`[${kind}] discovery lists request objects and their algorithms`, async (t) => {
    const { server } = await setUp(t, kind);
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    t.is(metadata['request_parameter_supported'], true);
    t.deepEqual(
      [...(metadata['request_object_signing_alg_values_supported'] as string[])].sort(),
      [...ALGORITHMS].sort(),
    );
    // oidc-provider 9 takes request_uri from PAR only, never by reference: so this stays false.
    t.is(metadata['request_uri_parameter_supported'], false);
    t.is(metadata['pushed_authorization_request_endpoint'], `${server.issuer}/request`);
  });

  test(`[${kind}] a request object signed with the portal's key signs in, by value and pushed`, async (t) => {
    const { config, privateKey } = await setUp(t, kind);
    t.like(config.clientMetadata(), { client_id: 'signed' });

    const byValue = await requestParameters();
    const url = await oidc.buildAuthorizationUrlWithJAR(config, byValue.parameters, privateKey);
    t.truthy(url.searchParams.get('request'));
    t.is(url.searchParams.get('redirect_uri'), null, 'every parameter is inside the request object');
    const callback = await signInAt(new HttpBrowser({ 'accept-language': 'es-MX' }), url.href);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback.url), {
      pkceCodeVerifier: byValue.verifier,
      expectedState: byValue.parameters.state,
      expectedNonce: byValue.parameters.nonce,
      idTokenExpected: true,
    });
    t.truthy(tokens.id_token);

    // The same request object pushed (PAR, authenticated with private_key_jwt): the browser gets a request_uri.
    const pushed = await requestParameters();
    const jar = await oidc.buildAuthorizationUrlWithJAR(config, pushed.parameters, privateKey);
    const parUrl = await oidc.buildAuthorizationUrlWithPAR(config, jar.searchParams);
    t.regex(parUrl.searchParams.get('request_uri') ?? '', /^urn:ietf:params:oauth:request_uri:/);
    const pushedCallback = await signInAt(new HttpBrowser({ 'accept-language': 'es-MX' }), parUrl.href);
    const pushedTokens = await oidc.authorizationCodeGrant(config, new URL(pushedCallback.url), {
      pkceCodeVerifier: pushed.verifier,
      expectedState: pushed.parameters.state,
      expectedNonce: pushed.parameters.nonce,
      idTokenExpected: true,
    });
    t.truthy(pushedTokens.id_token);
  });

  test(`[${kind}] an unsigned request object is refused with invalid_request_object, through form_post`, async (t) => {
    const { server } = await setUp(t, kind);
    const { parameters } = await requestParameters();
    const claims = { ...parameters, client_id: 'signed', response_mode: 'form_post' };
    const unsigned = new UnsecuredJWT(claims)
      .setIssuer('signed')
      .setAudience(server.issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    const browser = new HttpBrowser({ 'accept-language': 'es-MX' });
    const url = new URL(`${server.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: 'signed',
      response_type: 'code',
      response_mode: 'form_post',
      redirect_uri: REDIRECT,
      request: unsigned,
    }).toString();
    const page = await browser.open(url.href, REDIRECT);
    // oidc-provider answers the auto-submitting form with the error's status.
    t.is(page.status, 400);
    const form = formOf(page.body, REDIRECT);
    t.is(form.action, REDIRECT);
    t.is(form.hidden['error'], 'invalid_request_object');
    t.is(form.hidden['state'], parameters.state);
    t.is(form.hidden['iss'], server.issuer);
    t.truthy(form.hidden['error_description']);
    t.false(
      browser.cookieNames().some((name) => name.includes('interaction')),
      'no sign-in started',
    );

    // Signed, but with a key that is not the portal's: refused the same way.
    const { privateKey: stranger } = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'portal-1' })
      .setIssuer('signed')
      .setAudience(server.issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(stranger);
    url.searchParams.set('request', forged);
    const refused = await browser.open(url.href, REDIRECT);
    t.is(formOf(refused.body, REDIRECT).hidden['error'], 'invalid_request_object');
  });
}
