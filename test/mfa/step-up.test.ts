import test from 'ava';
import { JOURNEY_STORES } from '../support/stores.ts';
import {
  ACR_MFA,
  ACR_SFA,
  currentCode,
  enrollTotp,
  newBrowser,
  PASSWORD,
  REDIRECT,
  startMfaFixture,
} from './mfa-fixture.ts';

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] discovery advertises the acr values; a portal asking acr_values for MFA steps a password session up`,
    async (t) => {
      const { server, rp, createUser } = await startMfaFixture(t, kind);
      const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      t.deepEqual(discovery['acr_values_supported'], [ACR_SFA, ACR_MFA]);
      t.true((discovery['claims_supported'] as string[]).includes('acr'));

      const user = await createUser('ana@example.com');
      const browser = newBrowser();
      // No factor yet: a password is the whole sign-in, and the token says so.
      const first = await rp.signIn(browser, 'ana@example.com', PASSWORD);
      const firstClaims = (await rp.exchange(first.callback.url, first.request)).claims()!;
      t.deepEqual(firstClaims.amr, ['pwd']);
      t.is(firstClaims.acr, ACR_SFA);

      // Still no factor: a voluntary request for MFA cannot be met and is not asked again (the portal sees acr).
      const voluntary = await rp.authorizationRequest({ acr_values: ACR_MFA });
      const voluntaryResult = await browser.open(voluntary.url, REDIRECT);
      t.true(voluntaryResult.url.startsWith(REDIRECT));
      t.is((await rp.exchange(voluntaryResult.url, voluntary)).claims()!.acr, ACR_SFA);

      const secret = await enrollTotp(server, user);

      // prompt=none cannot step up: login_required, as OpenID Connect says.
      const silent = await rp.authorizationRequest({ acr_values: ACR_MFA, prompt: 'none' });
      const silentResult = await browser.open(silent.url, REDIRECT);
      t.is(new URL(silentResult.url).searchParams.get('error'), 'login_required');

      // The same session, asked for MFA: only the second factor, no password.
      const stepUp = await rp.authorizationRequest({ acr_values: ACR_MFA });
      const factorPage = await browser.open(stepUp.url, REDIRECT);
      t.regex(factorPage.url, /\/interaction\/[^/]+\/mfa$/, 'straight to the factor step');
      t.notRegex(factorPage.body, /type="password"/);
      const callback = await browser.submit(factorPage, '/mfa/totp', { code: await currentCode(secret) }, REDIRECT);
      const claims = (await rp.exchange(callback.url, stepUp)).claims()!;
      t.is(claims.sub, user.id);
      t.is(claims.acr, ACR_MFA);
      t.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);

      // The session is now at the MFA level: an essential request through the claims parameter passes silently.
      const essential = await rp.authorizationRequest({
        prompt: 'none',
        claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR_MFA] } } }),
      });
      const essentialResult = await browser.open(essential.url, REDIRECT);
      t.truthy(new URL(essentialResult.url).searchParams.get('code'), essentialResult.url);
      t.is((await rp.exchange(essentialResult.url, essential)).claims()!.acr, ACR_MFA);
    },
  );

  test.serial(
    `[${kind}] an essential acr request through the claims parameter asks a user with a factor for it at sign-in`,
    async (t) => {
      const { server, rp, createUser } = await startMfaFixture(t, kind);
      const user = await createUser('bea@example.com');
      const secret = await enrollTotp(server, user);
      const browser = newBrowser();
      const claimsParam = JSON.stringify({ id_token: { acr: { essential: true, values: [ACR_MFA] } } });
      const { request, callback: factorPage } = await rp.signIn(browser, 'bea@example.com', PASSWORD, {
        claims: claimsParam,
      });
      t.regex(factorPage.url, /\/mfa$/);
      const callback = await browser.submit(factorPage, '/mfa/totp', { code: await currentCode(secret) }, REDIRECT);
      const claims = (await rp.exchange(callback.url, request)).claims()!;
      t.is(claims.acr, ACR_MFA);
      t.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    },
  );
}
