import test from 'ava';
import { generate } from 'otplib';
import { JOURNEY_STORES } from '../support/stores.ts';
import { ACR_MFA, newBrowser, PASSWORD, REDIRECT, startMfaFixture } from './mfa-fixture.ts';

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a portal registered with require_mfa takes a user without a factor through enrollment during login`,
    async (t) => {
      const { server, rp, createUser } = await startMfaFixture(t, kind, { client: { requireMfa: true } });
      const user = await createUser('ana@example.com');
      const browser = newBrowser();

      const { request, callback: enrollPage } = await rp.signIn(browser, 'ana@example.com', PASSWORD);
      t.regex(
        enrollPage.url,
        /\/interaction\/[^/]+\/mfa\/enroll$/,
        'the password leads to enrollment, not to the portal',
      );
      t.regex(enrollPage.body, /Portal de Clientes pide verificación en dos pasos/);

      const setup = await browser.submit(enrollPage, '/mfa/enroll/totp', {});
      const secret = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(setup.body)![1]!.replace(/ /g, '');
      const wrong = await browser.submit(setup, '/mfa/enroll/totp/confirm', { code: '000000' });
      t.regex(wrong.body, /El código no es correcto/);
      t.false(await server.umbral.mfa.factors.hasFactors(user.id), 'a wrong code enables nothing');

      const codesPage = await browser.submit(setup, '/mfa/enroll/totp/confirm', { code: await generate({ secret }) });
      t.regex(codesPage.url, /\/mfa\/enroll\/codes$/);
      const codes = [...codesPage.body.matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
      t.is(codes.length, 10);

      const callback = await browser.submit(codesPage, '/mfa/enroll/done', {}, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT));
      const claims = (await rp.exchange(callback.url, request)).claims()!;
      t.is(claims.acr, ACR_MFA);
      t.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);

      // The next sign-in to this portal (another browser) asks the factor; a recovery code works, once.
      const other = newBrowser();
      const next = await rp.signIn(other, 'ana@example.com', PASSWORD);
      t.regex(next.callback.url, /\/mfa$/);
      const recoveryPage = await other.open(`${next.callback.url}?method=recovery`);
      t.regex(recoveryPage.body, /Código de recuperación/);
      const recovered = await other.submit(recoveryPage, '/mfa/recovery', { code: codes[3]!.toUpperCase() }, REDIRECT);
      t.true(recovered.url.startsWith(REDIRECT), 'a recovery code (case and dashes do not matter) is a second factor');
      t.is((await rp.exchange(recovered.url, next.request)).claims()!.acr, ACR_MFA);
      t.is(await server.umbral.mfa.recoveryCodes.remaining(user.id), 9);

      const third = newBrowser();
      const again = await rp.signIn(third, 'ana@example.com', PASSWORD);
      const reused = await third.submit(await third.open(`${again.callback.url}?method=recovery`), '/mfa/recovery', {
        code: codes[3]!,
      });
      t.regex(reused.body, /El código no es correcto/, 'a used recovery code is refused');
      t.false(reused.url.startsWith(REDIRECT));
    },
  );

  test.serial(
    `[${kind}] the enrollment step cannot be reached without the password, nor the factor step skipped`,
    async (t) => {
      const { rp, createUser } = await startMfaFixture(t, kind, { client: { requireMfa: true } });
      await createUser('bea@example.com');
      const browser = newBrowser();
      const request = await rp.authorizationRequest();
      const identifier = await browser.open(request.url, REDIRECT);
      const uidPath = new URL(identifier.url).pathname;
      for (const path of ['/mfa', '/mfa/enroll', '/mfa/enroll/codes']) {
        const page = await browser.open(`${new URL(identifier.url).origin}${uidPath}${path}`, REDIRECT);
        t.regex(
          page.body,
          /action="\/interaction\/[^"]+\/identifier"/,
          `${path} sends the browser back to the sign-in`,
        );
      }
      const forged = await browser.request(`${new URL(identifier.url).origin}${uidPath}/mfa/enroll/done`, {
        form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(identifier.body)![1]! },
      });
      t.is(forged.status, 303);
      t.false((forged.headers.get('location') ?? '').startsWith(REDIRECT), 'no sign-in without the factors');
    },
  );
}
