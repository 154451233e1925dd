import test from 'ava';
import { sql } from 'kysely';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

test('a failure behind the login (its throttle table gone) ends on a friendly page, not a stack trace', async (t) => {
  const store = await createTestStore('pglite');
  const server = await startUmbral(store);
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
  const passwordPage = await browser.submit(identifier, '/identifier', { email: 'ana@example.com' }, REDIRECT);
  // Not an outage Umbral survives (a Redis outage is one: throttling falls back to the database).
  await sql`drop table throttle`.execute(server.umbral.storage.db);
  const result = await browser.submit(passwordPage, '/password', { password: 'correct horse battery' }, REDIRECT);
  t.is(result.status, 500);
  t.regex(result.body, /Algo salió mal/);
  t.notRegex(result.body, /Error:|relation|at .*\.ts:\d+/);
  t.notRegex(result.body, /throttle/i);
});
