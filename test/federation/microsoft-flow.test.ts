import test from 'ava';
import * as oidc from 'openid-client';
import { MICROSOFT_CONSUMERS_TENANT_ID } from '../../src/federation/federation-settings.ts';
import { codeOf } from '../interactions/signup-fixture.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { federationWorlds, PASSWORD, TENANT_ACME, TENANT_OTHER } from './federation-world.ts';
import { isAt, signInWith } from './flow-helpers.ts';

const federationWorld = federationWorlds(test);

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] Microsoft sign-up through the common endpoint: {tenantid} resolved, email verified by mail, keyed on (tid, oid)`,
    async (t) => {
      const world = await federationWorld(kind);
      const { server, microsoft, rp } = world;
      const account = microsoft.addAccount({ email: 'carlos@acme.example', tid: TENANT_ACME, name: 'Carlos Ruiz' });
      const browser = new HttpBrowser();
      const { request, page } = await signInWith(world, browser, 'microsoft', account.login);
      t.regex(page.body, /Crea tu cuenta/);
      t.regex(page.body, /Te enviaremos un código a este correo/);
      const verify = await browser.submit(
        page,
        '/federation/signup',
        { name: 'Carlos Ruiz', terms: 'accepted' },
        world.redirectUri,
      );
      t.regex(verify.body, /Revisa tu correo/);
      const user = (await server.users.findByEmail('carlos@acme.example'))!;
      t.false(user.email_verified, 'Microsoft does not vouch for the email');
      t.truthy(user.terms_accepted_at);
      const identity = await server.umbral.storage.db
        .selectFrom('federated_identities')
        .selectAll()
        .executeTakeFirstOrThrow();
      t.like(identity, { user_id: user.id, provider: 'microsoft', realm: TENANT_ACME, subject: account.oid });

      const [mail] = await world.mailTo('carlos@acme.example');
      const callback = await browser.submit(verify, '/verify', { code: codeOf(mail!) }, world.redirectUri);
      t.true(isAt(callback, world.redirectUri), callback.url);
      const tokens = await rp.exchange(callback.url, request);
      t.is(tokens.claims()!.sub, user.id);
      t.deepEqual(tokens.claims()!.amr, ['fed'], 'the login after verification is the federated one');
      t.is((await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id)).email_verified, true);

      // Next time Microsoft alone signs in.
      const again = await signInWith(world, new HttpBrowser(), 'microsoft', account.login);
      t.true(isAt(again.page, world.redirectUri));
      t.is((await rp.exchange(again.page.url, again.request)).claims()!.sub, user.id);
    },
  );

  test.serial(
    `[${kind}] an attacker's Microsoft account with the victim's email never reaches the victim's account`,
    async (t) => {
      // Even trusting Microsoft's emails: this tenant's admin typed the address, no domain owner verified it.
      const world = await federationWorld(kind, { MICROSOFT_TRUST_EMAIL: 'true', FEDERATION_AUTO_LINK: 'true' });
      const { server, microsoft } = world;
      const victim = await server.users.create({
        email: 'victima@banco.example',
        password: PASSWORD,
        emailVerified: true,
      });
      const attacker = microsoft.addAccount({ email: 'victima@banco.example', tid: TENANT_OTHER });
      const browser = new HttpBrowser();
      const { page } = await signInWith(world, browser, 'microsoft', attacker.login);
      t.regex(page.body, /Crea tu cuenta/, 'the same page as for a new email: nothing tells the account exists');
      const next = await browser.submit(
        page,
        '/federation/signup',
        { name: 'Mallory', terms: 'accepted' },
        world.redirectUri,
      );
      t.regex(next.body, /Revisa tu correo/);
      const [notice] = await world.mailTo('victima@banco.example');
      t.notRegex(notice!.text ?? '', /^\s*\d{6}\s*$/m, 'the owner is told, and gets no code');
      const wrong = await browser.submit(next, '/verify', { code: '123456' }, world.redirectUri);
      t.false(isAt(wrong, world.redirectUri));
      t.is((await server.umbral.storage.db.selectFrom('federated_identities').selectAll().execute()).length, 0);
      const after = (await server.users.findById(victim.id))!;
      t.is(after.name, victim.name);
      t.is(after.password_hash, victim.password_hash);
      t.is((await server.users.list()).length, 1);
    },
  );

  test.serial(
    `[${kind}] trusted Microsoft emails with a verified domain owner make verified accounts; trusted upstream MFA reaches amr`,
    async (t) => {
      const world = await federationWorld(kind, {
        MICROSOFT_TRUST_EMAIL: 'true',
        FEDERATION_TRUST_UPSTREAM_MFA: 'true',
      });
      const { server, microsoft, rp } = world;
      const account = microsoft.addAccount({
        email: 'dora@acme.example',
        tid: TENANT_ACME,
        edov: true,
        amr: ['pwd', 'mfa'],
      });
      const browser = new HttpBrowser();
      const { request, page } = await signInWith(world, browser, 'microsoft', account.login);
      t.regex(page.body, /Microsoft ya confirmó este correo/);
      const callback = await browser.submit(
        page,
        '/federation/signup',
        { name: 'Dora', terms: 'accepted' },
        world.redirectUri,
      );
      t.true(isAt(callback, world.redirectUri), callback.url);
      t.deepEqual((await rp.exchange(callback.url, request)).claims()!.amr, ['fed', 'pwd', 'mfa']);
      t.true((await server.users.findByEmail('dora@acme.example'))!.email_verified);
    },
  );

  test.serial(`[${kind}] untrusted upstream MFA is recorded on the link but not asserted`, async (t) => {
    const world = await federationWorld(kind, { MICROSOFT_TRUST_EMAIL: 'true' });
    const { server, microsoft, rp } = world;
    const account = microsoft.addAccount({
      email: 'eli@acme.example',
      tid: TENANT_ACME,
      edov: true,
      amr: ['pwd', 'mfa'],
    });
    const browser = new HttpBrowser();
    const { request, page } = await signInWith(world, browser, 'microsoft', account.login);
    const callback = await browser.submit(
      page,
      '/federation/signup',
      { name: 'Eli', terms: 'accepted' },
      world.redirectUri,
    );
    t.deepEqual((await rp.exchange(callback.url, request)).claims()!.amr, ['fed']);
    const identity = await server.umbral.storage.db
      .selectFrom('federated_identities')
      .selectAll()
      .executeTakeFirstOrThrow();
    t.deepEqual(identity.last_amr, ['pwd', 'mfa']);
  });

  test.serial(
    `[${kind}] wrong tenants are refused: organizations takes no personal account, the allow-list holds, tid must match iss`,
    async (t) => {
      const world = await federationWorld(kind, {
        MICROSOFT_TENANT: 'organizations',
        MICROSOFT_ALLOWED_TENANTS: TENANT_ACME,
      });
      const { server, microsoft } = world;
      const personal = microsoft.addAccount({ email: 'fer@outlook.example', tid: MICROSOFT_CONSUMERS_TENANT_ID });
      const outsider = microsoft.addAccount({ email: 'gil@other.example', tid: TENANT_OTHER });
      // A tenant whose token claims another tenant's id: its issuer and tid disagree.
      const forger = microsoft.addAccount({
        email: 'hal@other.example',
        tid: TENANT_OTHER,
        claims: { tid: TENANT_ACME },
      });
      for (const [account, message] of [
        [personal, /pertenece a una organización que no corresponde/],
        [outsider, /Tu organización de Microsoft no tiene acceso/],
        [forger, /pertenece a una organización que no corresponde/],
      ] as const) {
        const browser = new HttpBrowser();
        const { page } = await signInWith(world, browser, 'microsoft', account.login);
        t.is(page.status, 400, account.login);
        t.regex(page.body, message, account.login);
        t.regex(page.body, /Usar otra forma de iniciar sesión/);
      }
      t.is((await server.users.list()).length, 0);
      t.is((await server.umbral.storage.db.selectFrom('federated_identities').selectAll().execute()).length, 0);
    },
  );

  test.serial(`[${kind}] a tenant's own endpoint (fixed issuer) signs in its accounts`, async (t) => {
    const world = await federationWorld(kind, { MICROSOFT_TENANT: TENANT_ACME, MICROSOFT_TRUST_EMAIL: 'true' });
    const account = world.microsoft.addAccount({ email: 'ivo@acme.example', tid: TENANT_ACME, edov: true });
    const browser = new HttpBrowser();
    const request = await world.rp.authorizationRequest();
    const identifier = await browser.open(request.url, world.redirectUri);
    const upstream = await browser.submit(identifier, '/federation/microsoft/start', {}, world.redirectUri);
    t.true(upstream.url.startsWith(`${world.microsoft.authority}/${TENANT_ACME}/`), upstream.url);
    const { page } = await signInWith(world, new HttpBrowser(), 'microsoft', account.login);
    t.regex(page.body, /Crea tu cuenta/);
  });

  test.serial(`[${kind}] an unreachable provider ends on a clear page, never a stack trace`, async (t) => {
    const world = await federationWorld(kind, { GOOGLE_ISSUER: 'http://127.0.0.1:9' });
    const browser = new HttpBrowser({ 'accept-language': 'en' });
    const request = await world.rp.authorizationRequest();
    const identifier = await browser.open(request.url, world.redirectUri);
    const page = await browser.submit(identifier, '/federation/google/start', {}, world.redirectUri);
    t.is(page.status, 502);
    t.regex(page.body, /Google is not responding right now/);
    t.notRegex(page.body, /at \w+ \(|node_modules|ECONNREFUSED|Error:/);
    t.regex(page.body, /Use another way to sign in/);
  });
}
