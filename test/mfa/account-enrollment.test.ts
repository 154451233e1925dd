import test from 'ava';
import { generate } from 'otplib';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import type { HttpBrowser, Page } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { ACR_MFA, newBrowser, PASSWORD, REDIRECT, startMfaFixture } from './mfa-fixture.ts';

/** Signs in to the account page through the hosted login; returns /account/security. */
async function openSecurityPage(browser: HttpBrowser, issuer: string, email: string): Promise<Page> {
  const identifier = await browser.open(`${issuer}/account/security`);
  return (await submitCredentials(browser, identifier, email, PASSWORD)).next;
}

function setupKeyOf(page: Page): string {
  const match = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(page.body);
  if (!match) throw new Error('no setup key on the page');
  return match[1]!.replace(/ /g, '');
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a person enrolls an authenticator app from the account page, then signs in to a portal with password and code`,
    async (t) => {
      const { server, rp, createUser } = await startMfaFixture(t, kind);
      const user = await createUser('ana@example.com');
      const browser = newBrowser();

      const security = await openSecurityPage(browser, server.issuer, 'ana@example.com');
      t.is(security.status, 200);
      t.regex(security.url, /\/account\/security$/);
      t.regex(security.body, /La verificación en dos pasos está desactivada/);
      t.regex(security.body, /Los SMS son la opción menos segura/, 'the page says SMS is the weaker option');

      const setup = await browser.submit(security, '/account/security/totp', {});
      t.regex(setup.url, /\/account\/security\/totp$/);
      t.regex(setup.body, /<svg[^>]*>/, 'a QR code');
      t.regex(setup.body, /href="otpauth:\/\/totp\/[^"]+secret=/, 'an otpauth:// link');
      const secret = setupKeyOf(setup);
      t.regex(setup.body, /autocomplete="one-time-code"/);

      // Not enabled until a correct code: a wrong one changes nothing.
      const wrong = await browser.submit(setup, '/totp/confirm', { code: '000000', label: 'Mi iPhone' });
      t.regex(wrong.body, /El código no es correcto/);
      t.false(await server.umbral.mfa.factors.hasFactors(user.id));
      const wrongPost = browser.history.find((p) => p.url.endsWith('/totp/confirm'))!;
      t.is(wrongPost.status, 303);

      // Three sign-ins with one app in a few seconds: each uses its own 30-second step (a code is accepted once).
      const step = (offset: number) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset });
      const codesPage = await browser.submit(setup, '/totp/confirm', { code: await step(-30), label: 'Mi iPhone' });
      t.regex(codesPage.url, /\/account\/security\/recovery-codes$/);
      const codes = [...codesPage.body.matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
      t.is(codes.length, 10, 'ten recovery codes, shown once');
      t.true(
        codes.every((code) => /^[a-z2-9]{5}-[a-z2-9]{5}$/.test(code)),
        `ten characters each, in two groups: ${codes[0]}`,
      );
      t.regex(
        codesPage.body,
        /<a class="button secondary" download="codigos-de-recuperacion.txt" href="data:text\/plain;charset=utf-8,[^"]+">Descargar<\/a>/,
      );
      t.true(codesPage.body.includes(encodeURIComponent(codes[0]!)), 'the file holds the codes');
      t.regex(codesPage.body, /<button type="button" class="secondary" data-print hidden>Imprimir<\/button>/);
      const stored = await server.umbral.storage.db
        .selectFrom('mfa_recovery_codes')
        .select('code_hash')
        .where('user_id', '=', user.id)
        .execute();
      t.true(
        stored.every((row) => row.code_hash.startsWith('h1:')),
        'kept as keyed hashes, never as typed',
      );
      t.is(new Set(codes).size, 10);
      const again = await browser.open(codesPage.url);
      t.notRegex(again.body, new RegExp(codes[0]!), 'not shown a second time');
      t.true(await server.umbral.mfa.factors.hasFactors(user.id));

      // The code just typed proved the new factor in this session: the security page opens at once,
      // with no second sign-in, and the session counts as signed in with both factors.
      const page = await browser.open(`${server.issuer}/account/security`);
      t.regex(page.url, /\/account\/security$/);
      t.regex(page.body, /<h1>Verificación en dos pasos<\/h1>/);
      t.notRegex(page.body, /type="password"/, 'no sign-in asked');
      // A fresh browser still needs both: the password, then the app's code.
      const other = newBrowser();
      const identifier = await other.open(`${server.issuer}/account/security`);
      const { next: factorPage0 } = await submitCredentials(other, identifier, 'ana@example.com', PASSWORD);
      t.regex(factorPage0.url, /\/mfa$/);
      const otherPage = await other.submit(factorPage0, '/mfa/totp', { code: await step(0) });
      t.regex(otherPage.url, /\/account\/security$/);
      t.regex(page.body, /Aplicación de autenticación: Mi iPhone/);
      t.regex(page.body, /Te quedan 10 códigos sin usar/);

      await server.umbral.mailer.drain();
      const notice = await server.umbral.storage.db
        .selectFrom('mail_queue')
        .select(['template', 'to_address'])
        .where('template', '=', 'mfa-factor-added')
        .execute();
      t.deepEqual(
        notice,
        [{ template: 'mfa-factor-added', to_address: 'ana@example.com' }],
        'the person is told by email',
      );

      // The portal: password, then the app's code.
      const portalBrowser = newBrowser();
      const { request, callback: factorPage } = await rp.signIn(portalBrowser, 'ana@example.com', PASSWORD);
      t.regex(factorPage.url, /\/mfa$/);
      const callback = await portalBrowser.submit(factorPage, '/mfa/totp', { code: await step(30) }, REDIRECT);
      const tokens = await rp.exchange(callback.url, request);
      t.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);
      t.is(tokens.claims()!.acr, ACR_MFA);
    },
  );
}
