import test from 'ava';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { DomainRoutes } from '../../src/federation/domain-routes.ts';
import { MICROSOFT_CONSUMERS_TENANT_ID } from '../../src/federation/federation-settings.ts';
import { type FederationWorld, federationWorlds, PASSWORD, TENANT_ACME } from '../federation/federation-world.ts';
import { codeOf } from '../interactions/signup-fixture.ts';
import { BROWSER_STORES, type StoreKind } from '../support/stores.ts';
import {
  expectHeading,
  landOn,
  launchChromium,
  newContext,
  type Portal,
  STACK_TRACE,
  startPortal,
} from './browser-support.ts';

// Headless Chromium through Umbral's pages and the two local providers' pages. Serial: one
// Chromium for the file, a fresh context per test, and an Umbral (with its own providers) per store and
// environment, emptied before each test.
let browser: Browser | undefined;
let portal: Portal | undefined;
test.before(async () => {
  browser = await launchChromium();
  portal = await startPortal();
});
test.after.always(async () => {
  await browser?.close();
  await portal?.close();
});

const federationWorld = federationWorlds(test);

async function world(kind: StoreKind, env: Record<string, string> = {}): Promise<FederationWorld> {
  return federationWorld(kind, env, portal!.redirectUri);
}

/** The provider's own page(s): the account, then Continue (or Cancel). */
async function atProvider(page: Page, w: FederationWorld, login: string, button: 'Continue' | 'Cancel' = 'Continue') {
  for (let hops = 0; hops < 3; hops++) {
    await page.waitForLoadState();
    if (page.url().startsWith(w.server.issuer)) return;
    await page.getByLabel('Account').fill(login);
    await page.getByRole('button', { name: button }).click();
    await page
      .waitForURL((url) => !url.href.startsWith(page.url()) || url.href.startsWith(w.server.issuer), { timeout: 5_000 })
      .catch(() => undefined);
  }
}

async function acceptTerms(page: Page) {
  await page.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Crear cuenta' }).click();
}

for (const kind of BROWSER_STORES) {
  test.serial(
    `[${kind}] Chromium: a new person signs up with Microsoft, verifies by email and reaches the portal`,
    async (t) => {
      const w = await world(kind);
      const account = w.microsoft.addAccount({ email: 'nora@acme.example', tid: TENANT_ACME, name: 'Nora Díaz' });
      const { page } = await newContext(t, browser!);
      const request = await w.rp.authorizationRequest();
      await page.goto(request.url);
      await expectHeading(page, 'Inicia sesión');
      await page.getByRole('button', { name: 'Continuar con Microsoft' }).click();
      await atProvider(page, w, account.login);
      await expectHeading(page, 'Crea tu cuenta');
      t.true(await page.getByText('nora@acme.example').isVisible());
      t.is(await page.getByLabel('Nombre y apellido').inputValue(), 'Nora Díaz');
      await acceptTerms(page);
      await expectHeading(page, 'Revisa tu correo');
      const [mail] = await w.mailTo('nora@acme.example');
      await page.getByLabel('Código de verificación').fill(codeOf(mail!));
      await page.getByRole('button', { name: 'Verificar' }).click();
      const callback = await landOn(page, portal!.redirectUri);
      const tokens = await w.rp.exchange(callback.href, request);
      const user = (await w.server.users.findByEmail('nora@acme.example'))!;
      t.is(tokens.claims()!.sub, user.id);
      t.deepEqual(tokens.claims()!.amr, ['fed']);
      t.true(user.email_verified);
    },
  );

  test.serial(`[${kind}] Chromium: another person signs in with Google and lands as a verified account`, async (t) => {
    const w = await world(kind);
    const account = w.google.addAccount({ email: 'olga@gmail.example', emailVerified: true, name: 'Olga' });
    const { page } = await newContext(t, browser!);
    const request = await w.rp.authorizationRequest({ prompt: 'create' });
    await page.goto(request.url);
    await expectHeading(page, 'Crea tu cuenta');
    await page.getByRole('button', { name: 'Continuar con Google' }).click();
    await atProvider(page, w, account.login);
    await expectHeading(page, 'Crea tu cuenta');
    t.true(await page.getByText('Google ya confirmó este correo.').isVisible());
    await acceptTerms(page);
    const callback = await landOn(page, portal!.redirectUri);
    const tokens = await w.rp.exchange(callback.href, request);
    const userinfo = await oidc.fetchUserInfo(w.rp.config, tokens.access_token, tokens.claims()!.sub);
    t.is(userinfo.email, 'olga@gmail.example');
    t.is(userinfo.email_verified, true);
  });

  test.serial(
    `[${kind}] Chromium: linking needs the local password; an unverified local email is never linked`,
    async (t) => {
      const w = await world(kind);
      const local = await w.server.users.create({
        email: 'pia@empresa.example',
        password: PASSWORD,
        emailVerified: true,
      });
      await w.server.users.create({ email: 'quim@empresa.example', password: PASSWORD, emailVerified: false });
      const pia = w.google.addAccount({ email: 'pia@empresa.example', emailVerified: true });
      const quim = w.google.addAccount({ email: 'quim@empresa.example', emailVerified: true });

      const { page } = await newContext(t, browser!);
      const request = await w.rp.authorizationRequest();
      await page.goto(request.url);
      await page.getByRole('button', { name: 'Continuar con Google' }).click();
      await atProvider(page, w, pia.login);
      await expectHeading(page, 'Vincula tu cuenta de Google');
      await page.getByLabel('Contraseña', { exact: true }).fill('wrong password here');
      await page.getByRole('button', { name: 'Vincular e iniciar sesión' }).click();
      await expectHeading(page, 'Vincula tu cuenta de Google');
      t.true(await page.getByText('La contraseña no es correcta.').isVisible());
      await page.getByLabel('Contraseña', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Vincular e iniciar sesión' }).click();
      const callback = await landOn(page, portal!.redirectUri);
      const claims = (await w.rp.exchange(callback.href, request)).claims()!;
      t.is(claims.sub, local.id);
      t.deepEqual(claims.amr, ['fed', 'pwd']);

      const second = await newContext(t, browser!);
      await second.page.goto((await w.rp.authorizationRequest()).url);
      await second.page.getByRole('button', { name: 'Continuar con Google' }).click();
      await atProvider(second.page, w, quim.login);
      await expectHeading(second.page, 'No pudimos iniciar sesión con Google');
      t.true(await second.page.getByText(/aún no está confirmado/).isVisible());
      const linked = await w.server.umbral.storage.db.selectFrom('federated_identities').select('user_id').execute();
      t.deepEqual(
        linked.map((r) => r.user_id),
        [local.id],
      );
    },
  );

  test.serial(
    `[${kind}] Chromium: domain routing, a wrong tenant and a cancelled consent, each ending somewhere clear`,
    async (t) => {
      const w = await world(kind, { MICROSOFT_TENANT: 'organizations' });
      await new DomainRoutes(w.server.umbral.storage.db).add('outlook.example', 'microsoft');
      const personal = w.microsoft.addAccount({ email: 'rui@outlook.example', tid: MICROSOFT_CONSUMERS_TENANT_ID });
      const { page } = await newContext(t, browser!);
      const request = await w.rp.authorizationRequest();
      await page.goto(request.url);
      await page.getByLabel('Correo electrónico').fill('rui@outlook.example');
      await page.getByRole('button', { name: 'Siguiente' }).click();
      await page.waitForURL((url) => url.href.startsWith(w.microsoft.authority));
      t.is(await page.getByLabel('Account').inputValue(), 'rui@outlook.example', 'routed with login_hint');
      await atProvider(page, w, personal.login);
      await expectHeading(page, 'No pudimos iniciar sesión con Microsoft');
      t.true(await page.getByText(/organización que no corresponde/).isVisible());
      t.notRegex(await page.locator('body').innerText(), STACK_TRACE);

      // Back to the other methods, then a cancelled Google consent: the same pending authorization.
      await page.getByRole('link', { name: 'Usar otra forma de iniciar sesión' }).click();
      await expectHeading(page, 'Inicia sesión');
      await page.getByRole('button', { name: 'Continuar con Google' }).click();
      await atProvider(page, w, 'anyone@gmail.example', 'Cancel');
      await expectHeading(page, 'No pudimos iniciar sesión con Google');
      t.true(await page.getByText(/Se canceló el inicio de sesión en Google/).isVisible());
      await page.getByRole('link', { name: 'Usar otra forma de iniciar sesión' }).click();
      await expectHeading(page, 'Inicia sesión');
      await w.server.users.create({ email: 'rui@empresa.example', password: PASSWORD, emailVerified: true });
      await page.getByLabel('Correo electrónico').fill('rui@empresa.example');
      await page.getByRole('button', { name: 'Siguiente' }).click();
      await expectHeading(page, 'Escribe tu contraseña');
      await page.getByLabel('Contraseña', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Iniciar sesión' }).click();
      const callback = await landOn(page, portal!.redirectUri);
      t.deepEqual(
        (await w.rp.exchange(callback.href, request)).claims()!.amr,
        ['pwd'],
        'the same authorization completed with the password',
      );
    },
  );
}
