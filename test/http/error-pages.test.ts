import test from 'ava';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

test('an outage behind the login (Redis unreachable) ends on a friendly page, not a stack trace', async (t) => {
  const store = await createTestStore('pglite');
  const server = await startUmbral(store, { REDIS_URL: 'redis://127.0.0.1:1' });
  t.teardown(async () => {
    await server.stop();
    await store.cleanup();
  });
  const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
  await server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
  const browser = new HttpBrowser();
  const request = await rp.authorizationRequest();
  const identifier = await browser.open(request.url, REDIRECT);
  const { next: result } = await submitCredentials(
    browser,
    identifier,
    'ana@example.com',
    'correct horse battery',
    REDIRECT,
  );
  t.is(result.status, 500);
  t.regex(result.body, /Algo salió mal/);
  t.notRegex(result.body, /Error:|ECONNREFUSED|at .*\.ts:\d+/);
  t.notRegex(result.body, /redis/i);
});
