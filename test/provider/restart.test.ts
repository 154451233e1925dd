import test from 'ava';
import type { CookieSigner } from '../../src/http/cookie-signer.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

for (const kind of STORES) {
  test.serial(`[${kind}] clients, users, sessions, refresh tokens and signing keys survive a restart`, async (t) => {
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const before = await startUmbral(store);
    const port = new URL(before.issuer).port;
    const client = await before.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
    await before.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
    const jwksBefore = await (await fetch(`${before.issuer}/jwks`)).json();
    const browser = new HttpBrowser();
    const rp = await RelyingParty.discover(before.issuer, 'portal', client.client_secret, REDIRECT);
    const { request, callback } = await rp.signIn(browser, 'ana@example.com', 'correct horse battery');
    const tokens = await rp.exchange(callback.url, request);
    const cookieKeysBefore = (before.umbral.app.keys as CookieSigner).secrets;
    await before.stop();

    const after = await startUmbral(store, { PORT: port });
    t.teardown(() => after.stop());
    t.deepEqual(await (await fetch(`${after.issuer}/jwks`)).json(), jwksBefore, 'same published keys');
    t.deepEqual((after.umbral.app.keys as CookieSigner).secrets, cookieKeysBefore, 'same cookie keys');
    const refreshed = await rp.refresh(tokens.refresh_token!);
    t.truthy(refreshed.access_token, 'the refresh token still works');
    const silent = await rp.authorizationRequest({ prompt: 'none' });
    const result = await browser.open(silent.url, REDIRECT);
    t.truthy(new URL(result.url).searchParams.get('code'), 'the browser session still works');
    const second = await rp.exchange(result.url, silent);
    t.is(second.claims()!.sub, tokens.claims()!.sub);
    t.truthy(await after.users.findByEmail('ANA@example.com'));
    t.is((await after.clients.list()).length, 1);
  });
}
