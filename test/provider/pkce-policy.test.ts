import test from 'ava';
import * as oidc from 'openid-client';
import { ClientInputError } from '../../src/clients/client-registry.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'correct horse battery';

/** An authorization request as passport-openidconnect sends it: state and nonce, no PKCE. */
function withoutPkce(rp: RelyingParty, params: Record<string, string>): string {
  return oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: REDIRECT,
    scope: 'openid email profile',
    state: 'st-1',
    ...params,
  }).href;
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] pkce optional: a confidential portal signs in without PKCE when it sends a nonce, and is refused without one`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startUmbral(store);
      t.teardown(async () => {
        await server.stop();
        await store.cleanup();
      });
      const legacy = await server.registerClient({ clientId: 'legacy', redirectUris: [REDIRECT], pkce: 'optional' });
      t.is(legacy['pkce'], 'optional');
      const strict = await server.registerClient({ clientId: 'strict', redirectUris: [REDIRECT] });
      const user = await server.users.create({ email: 'ana@example.com', password: PASSWORD });
      const rp = await RelyingParty.discover(server.issuer, 'legacy', legacy.client_secret, REDIRECT);
      const browser = new HttpBrowser();

      // No nonce: refused at the redirect_uri, before any sign-in page.
      const refused = new URL((await browser.open(withoutPkce(rp, {}), REDIRECT)).url);
      t.is(refused.origin + refused.pathname, REDIRECT);
      t.is(refused.searchParams.get('error'), 'invalid_request');
      t.is(refused.searchParams.get('error_description'), 'a request without PKCE must carry a nonce');
      t.is(refused.searchParams.get('state'), 'st-1');

      // With a nonce: the whole sign-in, and a code exchanged without a verifier.
      const identifierPage = await browser.open(withoutPkce(rp, { nonce: 'n-0S6_WzA2Mj' }), REDIRECT);
      const passwordPage = await browser.submit(identifierPage, '/identifier', { email: 'ana@example.com' }, REDIRECT);
      const callback = await browser.submit(passwordPage, '/password', { password: PASSWORD }, REDIRECT);
      const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(callback.url), {
        expectedState: 'st-1',
        expectedNonce: 'n-0S6_WzA2Mj',
        idTokenExpected: true,
      });
      t.is(tokens.claims()!.sub, user.id);
      t.is(tokens.claims()!['nonce'], 'n-0S6_WzA2Mj');

      // PKCE that is sent is still checked: a wrong verifier fails, plain is not accepted.
      const withPkce = await rp.authorizationRequest();
      const pkceCallback = await browser.open(withPkce.url, REDIRECT);
      const wrong = await t.throwsAsync(rp.exchange(pkceCallback.url, { ...withPkce, verifier: 'x'.repeat(43) }));
      t.is((wrong as oidc.ResponseBodyError).error, 'invalid_grant');
      const plain = new URL(
        (
          await browser.open(
            withoutPkce(rp, { nonce: 'n-1', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }),
            REDIRECT,
          )
        ).url,
      );
      t.is(plain.searchParams.get('error'), 'invalid_request');

      // A portal left at the default still needs PKCE, nonce or not.
      const strictRp = await RelyingParty.discover(server.issuer, 'strict', strict.client_secret, REDIRECT);
      const strictRefused = new URL((await browser.open(withoutPkce(strictRp, { nonce: 'n-2' }), REDIRECT)).url);
      t.is(strictRefused.searchParams.get('error'), 'invalid_request');
      t.regex(strictRefused.searchParams.get('error_description') ?? '', /PKCE/);
    },
  );

  test.serial(`[${kind}] pkce optional is refused for a public client, and nothing is stored`, async (t) => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store);
    t.teardown(async () => {
      await server.stop();
      await store.cleanup();
    });
    const error = await t.throwsAsync(
      server.registerClient({ clientId: 'spa', redirectUris: [REDIRECT], public: true, pkce: 'optional' }),
      { instanceOf: ClientInputError },
    );
    t.regex(error!.message, /pkce optional needs a confidential client/);
    const stored = await server.umbral.storage.db.selectFrom('clients').select('client_id').execute();
    t.false(stored.some((row) => row.client_id === 'spa'));

    // oidc-provider itself refuses such metadata too, should it reach the database another way.
    const invalid = await t.throwsAsync(
      server.umbral.provider.Client.validate({
        client_id: 'spa',
        token_endpoint_auth_method: 'none',
        redirect_uris: [REDIRECT],
        pkce: 'optional',
      } as never),
    );
    // invalid_client_metadata, with the reason as its description.
    t.is(invalid!.message, 'invalid_client_metadata');
    t.regex(
      (invalid as { error_description?: string }).error_description ?? '',
      /pkce optional needs a confidential client/,
    );
  });
}
