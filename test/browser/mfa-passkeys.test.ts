import test, { type ExecutionContext } from 'ava';
import type { BrowserContext, Page } from 'playwright-core';
import { BROWSER_STORES } from '../support/stores.ts';
import {
  browserSuite,
  expectHeading,
  landOn,
  newContext,
  PASSWORD,
  submitEmail,
  submitPassword,
} from './browser-support.ts';

// Passkeys in real Chromium, with its virtual authenticator standing in for the device's
// platform authenticator (user verification by "PIN or biometric" always succeeds).
const suite = browserSuite(test, BROWSER_STORES);

const ACR_MFA = 'urn:umbral:acr:mfa';

async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}

/** Signs in to /account/security with the password (the account page goes through the hosted login). */
async function openSecurityPage(page: Page, issuer: string, email: string): Promise<void> {
  await page.goto(`${issuer}/account/security`);
  await submitEmail(page, email);
  await submitPassword(page, PASSWORD);
  await expectHeading(page, 'Verificación en dos pasos');
}

async function registerPasskey(
  t: ExecutionContext,
  page: Page,
  issuer: string,
  email: string,
  name: string,
): Promise<void> {
  await openSecurityPage(page, issuer, email);
  await page.getByLabel('Nombre de la llave de acceso').fill(name);
  await page.getByRole('button', { name: 'Crear una llave de acceso' }).click();
  await expectHeading(page, 'Tus códigos de recuperación');
  t.is(await page.locator('.mfa-codes li').count(), 10, 'the first factor comes with ten recovery codes');
}

for (const kind of BROWSER_STORES) {
  const fixture = () => suite.fixture(kind);

  test.serial(
    `[${kind}] a passkey: registered from the account page, then a sign-in with it alone, and as a second factor`,
    async (t) => {
      const f = fixture();
      const user = await f.createUser(`ana.passkey.${kind}@example.com`);
      const { context, page } = await newContext(t, suite.browser());
      await addVirtualAuthenticator(context, page);

      await registerPasskey(t, page, f.server.issuer, user.email, 'Portátil');
      t.deepEqual(
        (await f.server.umbral.mfa.factors.list(user.id)).map((p) => [p.kind, p.label]),
        [['passkey', 'Portátil']],
      );

      // Passwordless, through the browser's autofill (conditional mediation): Chromium's virtual
      // authenticator answers at once, as a person picking the passkey offered in the email field.
      await context.clearCookies();
      const autofill = await f.rp.authorizationRequest();
      await page.goto(autofill.url);
      const autofillCallback = await landOn(page, f.portal.redirectUri);
      const claims = (await f.rp.exchange(autofillCallback.href, autofill)).claims()!;
      t.is(claims.sub, user.id);
      t.is(claims.acr, ACR_MFA);
      t.is((claims.amr as string[]).length, 2);
      t.true(['hwk', 'swk'].includes((claims.amr as string[])[0]!), JSON.stringify(claims.amr));
      t.is((claims.amr as string[])[1], 'mfa');

      // Passwordless with the button, in a browser without autofill for passkeys.
      const buttonPage = page;
      await buttonPage.addInitScript(
        'PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false)',
      );
      await context.clearCookies();
      const withButton = await f.rp.authorizationRequest();
      await buttonPage.goto(withButton.url);
      await buttonPage.getByRole('button', { name: 'Iniciar sesión con una llave de acceso' }).click();
      const buttonCallback = await landOn(buttonPage, f.portal.redirectUri);
      const buttonClaims = (await f.rp.exchange(buttonCallback.href, withButton)).claims()!;
      t.is(buttonClaims.sub, user.id);
      t.is(buttonClaims.acr, ACR_MFA);

      // As a second factor after the password.
      await context.clearCookies();
      const second = await f.rp.authorizationRequest();
      await page.goto(second.url);
      await submitEmail(page, user.email);
      await submitPassword(page, PASSWORD);
      await expectHeading(page, 'Verificación en dos pasos');
      await page.getByRole('button', { name: 'Usar mi llave de acceso' }).click();
      const secondCallback = await landOn(page, f.portal.redirectUri);
      const secondClaims = (await f.rp.exchange(secondCallback.href, second)).claims()!;
      t.is(secondClaims.acr, ACR_MFA);
      t.deepEqual(
        (secondClaims.amr as string[]).filter((m) => m !== 'hwk' && m !== 'swk'),
        ['pwd', 'mfa'],
      );
      t.is((secondClaims.amr as string[]).length, 3);
    },
  );

  test.serial(
    `[${kind}] without JavaScript the passkey button stays hidden and the password login works`,
    async (t) => {
      const f = fixture();
      const user = await f.createUser(`bea.nojs.${kind}@example.com`);
      const { page } = await newContext(t, suite.browser(), { javaScriptEnabled: false });
      const request = await f.rp.authorizationRequest();
      await page.goto(request.url);
      t.false(await page.getByRole('button', { name: 'Iniciar sesión con una llave de acceso' }).isVisible());
      await submitEmail(page, user.email);
      await submitPassword(page, PASSWORD);
      const callback = await landOn(page, f.portal.redirectUri);
      t.deepEqual((await f.rp.exchange(callback.href, request)).claims()!.amr, ['pwd']);
    },
  );
}
