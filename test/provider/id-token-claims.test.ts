import test from 'ava';
import * as oidc from 'openid-client';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'correct horse battery';

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a strict_id_token_claims portal gets email and name only from userinfo, unless it names them`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startUmbral(store);
      t.teardown(async () => {
        await server.stop();
        await store.cleanup();
      });
      const strict = await server.registerClient({
        clientId: 'strict',
        redirectUris: [REDIRECT],
        strictIdTokenClaims: true,
      });
      t.is(strict['strict_id_token_claims'], true);
      const plain = await server.registerClient({ clientId: 'plain', redirectUris: [REDIRECT] });
      const user = await server.users.create({ email: 'ana@example.com', password: PASSWORD, name: 'Ana Pérez' });
      const browser = new HttpBrowser();

      const rp = await RelyingParty.discover(server.issuer, 'strict', strict.client_secret, REDIRECT);
      const login = await rp.signIn(browser, 'ana@example.com', PASSWORD);
      const tokens = await rp.exchange(login.callback.url, login.request);
      const claims = tokens.claims()!;
      t.is(claims.sub, user.id);
      t.truthy(claims['auth_time']);
      t.deepEqual(claims['amr'], ['pwd']);
      for (const name of ['email', 'email_verified', 'name', 'updated_at']) t.false(name in claims, name);
      const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
      t.is(userinfo.email, 'ana@example.com');
      t.is(userinfo.name, 'Ana Pérez');

      // A refreshed ID token is held to the same rule.
      const refreshed = (await rp.refresh(tokens.refresh_token!)).claims()!;
      t.is(refreshed.sub, user.id);
      t.false('email' in refreshed);

      // The claims parameter still puts a claim it names in the ID token, as OIDC Core allows.
      const named = await rp.signIn(new HttpBrowser(), 'ana@example.com', PASSWORD, {
        claims: JSON.stringify({ id_token: { email: null } }),
      });
      const namedTokens = await rp.exchange(named.callback.url, named.request);
      t.is(namedTokens.claims()!['email'], 'ana@example.com');
      t.false('name' in namedTokens.claims()!);

      // Same user, same session, a portal without the option: the granted claims are in its ID token.
      const plainRp = await RelyingParty.discover(server.issuer, 'plain', plain.client_secret, REDIRECT);
      const plainRequest = await plainRp.authorizationRequest();
      const plainTokens = await plainRp.exchange((await browser.open(plainRequest.url, REDIRECT)).url, plainRequest);
      t.is(plainTokens.claims()!['email'], 'ana@example.com');
      t.is(plainTokens.claims()!['name'], 'Ana Pérez');
    },
  );
}
