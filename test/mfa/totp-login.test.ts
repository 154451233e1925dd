import test from 'ava';
import { JOURNEY_STORES } from '../support/stores.ts';
import { ACR_MFA, currentCode, enrollTotp, newBrowser, PASSWORD, REDIRECT, startMfaFixture } from './mfa-fixture.ts';

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] password then authenticator-app code: the ID token says pwd + otp, MFA level; a replayed code is refused`,
    async (t) => {
      const { server, rp, createUser } = await startMfaFixture(t, kind);
      const user = await createUser('ana@example.com');
      const secret = await enrollTotp(server, user);

      const browser = newBrowser();
      const { request, callback: factorPage } = await rp.signIn(browser, 'ana@example.com', PASSWORD);
      t.is(factorPage.status, 200);
      t.regex(factorPage.url, /\/interaction\/[^/]+\/mfa$/, 'the password leads to the factor step, not to the portal');
      t.regex(factorPage.body, /Verificación en dos pasos/);
      t.regex(factorPage.body, /autocomplete="one-time-code"/);
      t.regex(factorPage.body, /tu aplicación de autenticación «Mi teléfono»/);
      t.notRegex(factorPage.body, /autenticación \(Aplicación de autenticación/, 'the kind is not said twice');

      const code = await currentCode(secret);
      const callback = await browser.submit(factorPage, '/mfa/totp', { code }, REDIRECT);
      const codePost = browser.history.find((p) => p.url.endsWith('/mfa/totp'))!;
      t.is(codePost.status, 303, '303 after the code POST');
      t.true(callback.url.startsWith(REDIRECT), `lands on the portal (${callback.url})`);
      const tokens = await rp.exchange(callback.url, request);
      const claims = tokens.claims()!;
      t.is(claims.sub, user.id);
      t.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
      t.is(claims.acr, ACR_MFA);

      // The same code again, in another browser that knows the password: refused as already used.
      const other = newBrowser();
      const { callback: otherFactorPage } = await rp.signIn(other, 'ana@example.com', PASSWORD);
      const refused = await other.submit(otherFactorPage, '/mfa/totp', { code });
      t.regex(refused.url, /\/mfa\?/);
      t.regex(refused.body, /Ese código ya se usó/);
      t.false(refused.url.startsWith(REDIRECT));
    },
  );

  test.serial(
    `[${kind}] a wrong code changes nothing and says so; factor checks are throttled like passwords`,
    async (t) => {
      // The throttle's clock: it moves only when the test says, so a slow machine cannot let a wait run out.
      const clock = { at: Date.now(), now: () => clock.at };
      const { server, rp, createUser } = await startMfaFixture(t, kind, { now: clock.now });
      const user = await createUser('bea@example.com');
      const secret = await enrollTotp(server, user);
      const browser = newBrowser();
      const { request, callback: factorPage } = await rp.signIn(browser, 'bea@example.com', PASSWORD);
      for (const wrong of ['000000', 'abcdef', '']) {
        const page = await browser.submit(factorPage, '/mfa/totp', {
          code: wrong === (await currentCode(secret)) ? '111111' : wrong,
        });
        t.regex(page.body, /El código no es correcto/, `"${wrong}" is refused with a clear message`);
        t.regex(page.body, /aria-invalid="true"/);
      }
      // Still the same sign-in: the right code completes it.
      const callback = await browser.submit(factorPage, '/mfa/totp', { code: await currentCode(secret) }, REDIRECT);
      const tokens = await rp.exchange(callback.url, request);
      t.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);

      // Guessing: past the free failures each one doubles the wait (8 s after the ninth), and
      // while it lasts even the right code is not looked at (nor spent).
      const guesser = newBrowser();
      const guess = await rp.signIn(guesser, 'bea@example.com', PASSWORD);
      for (let i = 0; i < 9; i++) {
        if (i > 0) clock.at += 60_000; // past the previous wait, so all nine failures count
        await guesser.submit(guess.callback, '/mfa/totp', { code: '000000' });
      }
      // The tenth comes at once after the ninth: the clock does not move.
      const lastStep = async () =>
        Number(
          (
            await server.umbral.storage.db
              .selectFrom('mfa_factors')
              .select('totp_last_step')
              .where('user_id', '=', user.id)
              .executeTakeFirstOrThrow()
          ).totp_last_step,
        );
      const before = await lastStep();
      const next = await currentCode(secret);
      const throttled = await guesser.submit(guess.callback, '/mfa/totp', { code: next });
      t.regex(throttled.body, /Demasiados intentos fallidos\. Espera \d+ segundos?/);
      t.false(throttled.url.startsWith(REDIRECT));
      t.is(await lastStep(), before, 'the code was not checked, so not spent');
    },
  );
}
