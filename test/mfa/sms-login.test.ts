import test from 'ava';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import type { HttpBrowser, Page } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { ACR_MFA, ACR_SFA, newBrowser, PASSWORD, REDIRECT, startMfaFixture } from './mfa-fixture.ts';
import { startTwilioStandIn, TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN } from './twilio-stand-in.ts';

const PHONE = '+525512345678';

async function openSecurityPage(browser: HttpBrowser, issuer: string, email: string): Promise<Page> {
  const identifier = await browser.open(`${issuer}/account/security`);
  return (await submitCredentials(browser, identifier, email, PASSWORD)).next;
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] SMS through Twilio's API: the phone is verified first, then SMS is a second factor; remember this device`,
    async (t) => {
      const twilio = await startTwilioStandIn();
      t.teardown(() => twilio.close());
      const { server, rp, createUser } = await startMfaFixture(t, kind, { env: twilio.env });
      const user = await createUser('ana@example.com');

      // Enrollment on the account page: a bad number is refused and sends nothing.
      const browser = newBrowser();
      await openSecurityPage(browser, server.issuer, 'ana@example.com');
      const phoneForm = await browser.open(`${server.issuer}/account/security/sms`);
      t.regex(phoneForm.body, /Los SMS son la opción menos segura/);
      const invalid = await browser.submit(phoneForm, '/account/security/sms', { phone_country: 'MX', phone: '12' });
      t.is(invalid.status, 400);
      t.regex(invalid.body, /Escribe un número de teléfono móvil válido/);
      t.is(twilio.calls.length, 0);

      const verifyPage = await browser.submit(phoneForm, '/account/security/sms', {
        phone_country: 'MX',
        phone: '55 1234 5678',
      });
      t.regex(verifyPage.url, /\/account\/security\/sms\/verify$/);
      t.regex(
        verifyPage.body,
        /Escribe el código que enviamos al \+52 55 1234 5678\./,
        'the number just typed, in full',
      );
      t.is(twilio.calls.length, 1);
      const call = twilio.calls[0]!;
      t.is(call.path, `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
      t.is(call.authorization, `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`);
      t.is(call.form.get('To'), PHONE);
      t.is(call.form.get('From'), TWILIO_FROM);
      t.regex(call.form.get('Body')!, /Tu código de Umbral es \d{6}/);
      t.regex(
        call.form.get('Body')!,
        new RegExp(`@localhost #${twilio.lastCode(PHONE)}$`),
        'the origin-bound line for autofill',
      );
      t.false(await server.umbral.mfa.factors.hasFactors(user.id), 'not a factor before the code comes back');

      const wrong = await browser.submit(verifyPage, '/sms/verify', { code: '000000' });
      t.regex(wrong.body, /El código no es correcto/);
      const codes = await browser.submit(verifyPage, '/sms/verify', { code: twilio.lastCode(PHONE) });
      t.regex(codes.url, /\/recovery-codes$/);
      t.true(await server.umbral.mfa.factors.hasFactors(user.id));

      // Sign-in: the SMS factor, a resend too soon is refused, a wrong code, then the right one.
      const portal = newBrowser();
      const { request, callback: factorPage } = await rp.signIn(portal, 'ana@example.com', PASSWORD);
      t.regex(factorPage.body, /SMS al \+52•+5678/);
      const codeForm = await portal.submit(factorPage, '/mfa/sms/send', {});
      t.regex(codeForm.body, /Te enviamos un código por SMS/);
      t.regex(codeForm.body, /autocomplete="one-time-code"/);
      t.is(twilio.calls.length, 2);
      const tooSoon = await portal.submit(codeForm, '/mfa/sms/send', {});
      t.regex(tooSoon.body, /Ya te enviamos un código hace poco/);
      t.is(twilio.calls.length, 2, 'no message for a resend inside the wait');
      const wrongLogin = await portal.submit(codeForm, '/mfa/sms', { code: '000000' });
      t.regex(wrongLogin.body, /El código no es correcto/);
      const callback = await portal.submit(
        codeForm,
        '/mfa/sms',
        { code: twilio.lastCode(PHONE), remember: '1' },
        REDIRECT,
      );
      const claims = (await rp.exchange(callback.url, request)).claims()!;
      t.is(claims.acr, ACR_MFA);
      t.deepEqual(claims.amr, ['pwd', 'sms', 'mfa']);

      // Remembered: the next sign-in in this browser skips the factor (one factor, and the token says so)…
      const remembered = await rp.signIn(portal, 'ana@example.com', PASSWORD, { prompt: 'login' });
      t.true(remembered.callback.url.startsWith(REDIRECT), 'no factor step on a remembered device');
      const rememberedClaims = (await rp.exchange(remembered.callback.url, remembered.request)).claims()!;
      t.deepEqual(rememberedClaims.amr, ['pwd']);
      t.is(rememberedClaims.acr, ACR_SFA);
      // …but not when a portal demands the MFA level…
      const demanding = await rp.signIn(portal, 'ana@example.com', PASSWORD, { prompt: 'login', acr_values: ACR_MFA });
      t.regex(demanding.callback.url, /\/mfa$/);
      // …and not after a password change.
      await server.umbral.storage.db
        .updateTable('users')
        .set({ password_changed_at: new Date(Date.now() + 1000) })
        .where('id', '=', user.id)
        .execute();
      const afterPasswordChange = await rp.signIn(portal, 'ana@example.com', PASSWORD, { prompt: 'login' });
      t.regex(afterPasswordChange.callback.url, /\/mfa$/);
    },
  );

  test.serial(`[${kind}] Twilio refusing a message: a clear error, and no factor is added`, async (t) => {
    const twilio = await startTwilioStandIn();
    t.teardown(() => twilio.close());
    const { server, createUser } = await startMfaFixture(t, kind, { env: twilio.env });
    const user = await createUser('bea@example.com');
    const browser = newBrowser();
    await openSecurityPage(browser, server.issuer, 'bea@example.com');
    const phoneForm = await browser.open(`${server.issuer}/account/security/sms`);
    twilio.failNext();
    const failed = await browser.submit(phoneForm, '/account/security/sms', {
      phone_country: 'MX',
      phone: '55 1234 5678',
    });
    t.is(failed.status, 502);
    t.regex(failed.body, /No pudimos enviar el SMS/);
    t.false(await server.umbral.mfa.factors.hasFactors(user.id));
  });
}
