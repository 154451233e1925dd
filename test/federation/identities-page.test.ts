import test from 'ava';
import { FederatedIdentities } from '../../src/federation/federated-identities.ts';
import type { UpstreamIdentity } from '../../src/federation/upstream-identity.ts';
import { openAccount } from '../account/account-fixture.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { federationWorlds, PASSWORD, TENANT_ACME } from './federation-world.ts';

const federationWorld = federationWorlds(test);

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] /account/identities lists linked accounts and never unlinks the last way in`, async (t) => {
    const { server } = await federationWorld(kind);
    const user = await server.users.create({
      email: 'ana@acme.com',
      password: PASSWORD,
      name: 'Ana',
      emailVerified: true,
    });
    const identities = new FederatedIdentities(server.umbral.storage.db);
    const upstream = (provider: 'google' | 'microsoft', subject: string): UpstreamIdentity => ({
      provider,
      issuer: provider === 'google' ? server.issuer : `https://login.example/${TENANT_ACME}/v2.0`,
      realm: provider === 'google' ? 'https://accounts.google.com' : TENANT_ACME,
      subject,
      email: 'ana@acme.com',
      emailVerified: true,
      name: 'Ana',
      amr: ['pwd'],
      acr: undefined,
    });
    const google = (await identities.link(user.id, upstream('google', 'g-123')))!;
    const microsoft = (await identities.link(user.id, upstream('microsoft', 'oid-456')))!;

    const browser = new HttpBrowser({ 'accept-language': 'es' });
    const account = await openAccount(server, browser, '/account', 'ana@acme.com', PASSWORD);
    t.regex(account.body, /href="\/account\/identities">Cuentas vinculadas/);
    const page = await browser.open(`${server.issuer}/account/identities`);
    t.regex(page.body, /<strong>Google<\/strong>/);
    t.regex(page.body, /<strong>Microsoft<\/strong>/);

    // Someone else's link id: nothing happens.
    const stranger = await server.users.create({ email: 'otra@acme.com', password: PASSWORD });
    const theirs = (await identities.link(stranger.id, upstream('google', 'g-999')))!;
    const unlink = async (identity: string) =>
      browser.follow(
        await browser.request(`${server.issuer}/account/identities/unlink`, {
          form: { _csrf: csrfOf(page.body), identity },
        }),
      );
    await unlink(theirs.id);
    t.is(await identities.countForUser(stranger.id), 1);

    // A federated-only account (no password): one link may go, the last one may not.
    await server.umbral.storage.db
      .updateTable('users')
      .set({ password_hash: null })
      .where('id', '=', user.id)
      .execute();
    const first = await unlink(google.id);
    t.regex(first.body, /Desvinculamos la cuenta/);
    t.is(await identities.countForUser(user.id), 1);
    const last = await browser.request(`${server.issuer}/account/identities/unlink`, {
      form: { _csrf: csrfOf(page.body), identity: microsoft.id },
    });
    t.is(last.status, 409);
    t.regex(last.body, /No puedes desvincular tu única forma de iniciar sesión/);
    t.is(await identities.countForUser(user.id), 1);
  });
}
