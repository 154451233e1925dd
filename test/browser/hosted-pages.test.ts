import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Locator, Page } from 'playwright-core';
import { BROWSER_STORES, type StoreKind } from '../support/stores.ts';
import {
  browserSuite,
  CREDENTIALS_ERROR,
  expectHeading,
  landOn,
  newContext,
  PASSWORD,
  STACK_TRACE,
  signIn,
  submitEmail,
  submitPassword,
} from './browser-support.ts';

// Real Chromium on the hosted pages: one browser and one Umbral per store for the file
// (a single file, so the stores start once), a fresh browser context per test. Serial:
// a dozen Chromium pages hashing passwords at once swamps a two-core CI machine.
const suite = browserSuite(test);

const PHONE = { width: 375, height: 740 };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Screenshots go to a temp dir, kept when UMBRAL_SCREENSHOT_DIR names one (to look at them). */
function screenshotDir(t: ExecutionContext, kind: StoreKind): string {
  const keep = process.env['UMBRAL_SCREENSHOT_DIR'];
  if (keep) {
    fs.mkdirSync(keep, { recursive: true });
    return keep;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `umbral-screens-${kind}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function box(locator: Locator) {
  const found = await locator.boundingBox();
  if (!found) throw new Error(`${String(locator)} has no box: it is not rendered`);
  return found;
}

/** The form fits a phone: nothing scrolls sideways, the field lies within the width, the button shows above the fold. */
async function assertFitsPhone(t: ExecutionContext, page: Page, field: Locator, button: Locator, step: string) {
  const fieldBox = await box(field);
  t.true(
    fieldBox.x >= 0 && fieldBox.x + fieldBox.width <= PHONE.width,
    `${step}: field within the width (${JSON.stringify(fieldBox)})`,
  );
  t.true(fieldBox.width >= PHONE.width * 0.6, `${step}: field uses most of the width (${fieldBox.width}px)`);
  t.true(await button.isVisible(), `${step}: primary button visible`);
  const buttonBox = await box(button);
  t.true(
    buttonBox.x >= 0 && buttonBox.x + buttonBox.width <= PHONE.width,
    `${step}: button within the width (${JSON.stringify(buttonBox)})`,
  );
  t.true(
    buttonBox.y >= 0 && buttonBox.y + buttonBox.height <= PHONE.height,
    `${step}: button above the fold (${JSON.stringify(buttonBox)})`,
  );
  t.true(buttonBox.height >= 40, `${step}: button is a comfortable tap target (${buttonBox.height}px)`);
  // A string expression: the test project has no DOM typings.
  const scrollWidth = Number(await page.evaluate('document.documentElement.scrollWidth'));
  t.true(scrollWidth <= PHONE.width, `${step}: no sideways scrolling (scrollWidth ${scrollWidth})`);
}

async function screenshot(t: ExecutionContext, page: Page, file: string) {
  await page.screenshot({ path: file });
  const png = fs.readFileSync(file);
  t.true(
    png.subarray(0, 8).equals(PNG_SIGNATURE) && png.length > 5_000,
    `${path.basename(file)} is a real PNG (${png.length} bytes)`,
  );
  t.log('screenshot', file);
}

for (const kind of BROWSER_STORES) {
  const fixture = () => suite.fixture(kind);

  test.serial(`[${kind}] a portal signs a user in through the hosted pages with JavaScript disabled`, async (t) => {
    const f = fixture();
    const user = await f.createUser(`ana.nojs.${kind}@example.com`);
    const { page } = await newContext(t, suite.browser(), { javaScriptEnabled: false });

    // The context really runs no scripts: an inline script cannot retitle a page.
    await page.goto(f.portal.jsProbeUri);
    t.is(await page.title(), 'sin-js', 'JavaScript is off in this context');

    // Ask for the email in the ID token itself (code flow puts scope claims in userinfo only).
    const request = await f.rp.authorizationRequest({ claims: JSON.stringify({ id_token: { email: null } }) });
    const identifier = await page.goto(request.url);
    t.is(identifier?.status(), 200);
    t.regex(new URL(page.url()).pathname, /^\/interaction\/[\w-]+$/);
    await expectHeading(page, 'Inicia sesión');
    t.true(await page.getByText('para continuar en Portal de Clientes').isVisible());

    await submitEmail(page, user.email);
    t.is((await page.locator('.identity-email').textContent())?.trim(), user.email, 'the chosen email is shown');
    t.true(await page.getByRole('link', { name: 'Usar otra cuenta' }).isVisible());

    await submitPassword(page, PASSWORD);
    const callback = await landOn(page, f.portal.redirectUri);
    t.is(callback.origin + callback.pathname, f.portal.redirectUri);
    t.is(callback.searchParams.get('state'), request.state);
    t.truthy(callback.searchParams.get('code'));
    t.is(await page.locator('body').textContent(), 'ok');

    const tokens = await f.rp.exchange(callback.href, request);
    const claims = tokens.claims()!;
    t.is(claims.sub, user.id);
    t.is(claims['email'], user.email);
    t.is(claims.iss, f.server.issuer);
    t.is(claims.aud, 'portal');
  });

  test.serial(`[${kind}] a wrong password reads exactly like an unknown email`, async (t) => {
    const f = fixture();
    const user = await f.createUser(`ana.wrong.${kind}@example.com`);
    const { page } = await newContext(t, suite.browser());
    const request = await f.rp.authorizationRequest();
    await page.goto(request.url);

    /** The visible text of the page with the email blanked, and its alert. */
    async function failedAttempt(email: string, password: string) {
      await submitEmail(page, email);
      const rendered = page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'GET');
      await submitPassword(page, password);
      const status = (await rendered).status();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const passwordField = page.getByLabel('Contraseña', { exact: true });
      return {
        message: (await alert.textContent())?.trim(),
        status,
        invalid: await passwordField.getAttribute('aria-invalid'),
        value: await passwordField.inputValue(),
        text: (await page.locator('main').innerText()).replaceAll(email, '<email>'),
        path: new URL(page.url()).pathname,
      };
    }

    const unknown = await failedAttempt(`nadie.${kind}@example.com`, PASSWORD);
    t.is(unknown.message, CREDENTIALS_ERROR);
    t.is(unknown.invalid, 'true');
    t.is(unknown.value, '', 'the password is not echoed back');

    await page.getByRole('link', { name: 'Usar otra cuenta' }).click();
    await expectHeading(page, 'Inicia sesión');
    const wrong = await failedAttempt(user.email, 'not the password at all');
    t.is(wrong.message, CREDENTIALS_ERROR);
    t.deepEqual(wrong, unknown, 'same page, same words, same status for both failures');

    // The right password still works after a failure.
    await submitPassword(page, PASSWORD);
    const callback = await landOn(page, f.portal.redirectUri);
    const tokens = await f.rp.exchange(callback.href, request);
    t.is(tokens.claims()!.sub, user.id);
  });

  test.serial(`[${kind}] "Usar otra cuenta" returns to the email step`, async (t) => {
    const f = fixture();
    const first = await f.createUser(`ana.first.${kind}@example.com`);
    const second = await f.createUser(`bruno.second.${kind}@example.com`);
    const { page } = await newContext(t, suite.browser());
    const request = await f.rp.authorizationRequest();
    await page.goto(request.url);

    await submitEmail(page, first.email);
    t.is((await page.locator('.identity-email').textContent())?.trim(), first.email);
    await page.getByRole('link', { name: 'Usar otra cuenta' }).click();

    await expectHeading(page, 'Inicia sesión');
    const emailField = page.getByLabel('Correo electrónico');
    t.false(await page.getByLabel('Contraseña', { exact: true }).isVisible(), 'no password field on the email step');
    t.is(await emailField.inputValue(), first.email, 'the previous email is offered for editing');

    await submitEmail(page, second.email);
    t.is(
      (await page.locator('.identity-email').textContent())?.trim(),
      second.email,
      'the new email replaced the old one',
    );
    await submitPassword(page, PASSWORD);
    const callback = await landOn(page, f.portal.redirectUri);
    const tokens = await f.rp.exchange(callback.href, request);
    t.is(tokens.claims()!.sub, second.id, 'signed in as the account chosen second');
  });

  test.serial(`[${kind}] the back button after signing in shows the friendly expired page`, async (t) => {
    const f = fixture();
    const user = await f.createUser(`ana.back.${kind}@example.com`);
    const { page } = await newContext(t, suite.browser());
    const { request, callback } = await signIn(f, page, user.email);

    const back = await page.goBack();
    t.truthy(back, 'going back loads a page');
    t.regex(new URL(page.url()).pathname, /^\/interaction\/[\w-]+$/, 'back to the login step');
    t.is(back!.status(), 400);
    t.is(await page.getByRole('heading', { level: 1 }).textContent(), 'Esta página ya no es válida');
    const text = await page.locator('body').innerText();
    t.regex(text, /usaste el botón Atrás/);
    t.notRegex(text, STACK_TRACE);
    t.notRegex(await page.content(), STACK_TRACE);
    t.false(await page.getByLabel('Contraseña', { exact: true }).isVisible(), 'no stale form to resubmit');

    // The code the portal got is still good: going back did not disturb the finished sign-in.
    const tokens = await f.rp.exchange(callback.href, request);
    t.is(tokens.claims()!.sub, user.id);
  });

  test.serial(`[${kind}] the login pages fit a phone screen`, async (t) => {
    const f = fixture();
    const user = await f.createUser(`ana.phone.${kind}@example.com`);
    const { page } = await newContext(t, suite.browser(), {
      viewport: PHONE,
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const dir = screenshotDir(t, kind);
    const request = await f.rp.authorizationRequest();
    await page.goto(request.url);

    await expectHeading(page, 'Inicia sesión');
    const email = page.getByLabel('Correo electrónico');
    await assertFitsPhone(t, page, email, page.getByRole('button', { name: 'Siguiente' }), 'identifier');
    await screenshot(t, page, path.join(dir, `identifier-${kind}.png`));

    await submitEmail(page, user.email);
    const password = page.getByLabel('Contraseña', { exact: true });
    await assertFitsPhone(t, page, password, page.getByRole('button', { name: 'Iniciar sesión' }), 'password');
    const identity = await box(page.locator('.identity'));
    t.true(
      identity.x >= 0 && identity.x + identity.width <= PHONE.width,
      `the chosen email fits (${JSON.stringify(identity)})`,
    );
    await screenshot(t, page, path.join(dir, `password-${kind}.png`));

    // And the sign-in still completes from the phone.
    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Iniciar sesión' }).tap();
    const callback = await landOn(page, f.portal.redirectUri);
    const tokens = await f.rp.exchange(callback.href, request);
    t.is(tokens.claims()!.sub, user.id);
  });

  test.serial(`[${kind}] RP-initiated logout in the browser, JavaScript disabled`, async (t) => {
    const f = fixture();
    const user = await f.createUser(`ana.logout.${kind}@example.com`);
    const { page } = await newContext(t, suite.browser(), { javaScriptEnabled: false });
    const { request, callback } = await signIn(f, page, user.email);
    const tokens = await f.rp.exchange(callback.href, request);
    t.is(tokens.claims()!.sub, user.id);

    const endSession = new URL('/session/end', f.server.issuer);
    endSession.search = new URLSearchParams({
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: f.portal.postLogoutUri,
      state: 's',
    }).toString();
    const confirm = await page.goto(endSession.href);
    t.is(confirm?.status(), 200);
    await expectHeading(page, '¿Cerrar sesión?');
    t.regex(await page.locator('main').innerText(), /Portal de Clientes solicita cerrar tu sesión/);

    await page.getByRole('button', { name: 'Sí, cerrar sesión' }).click();
    const after = await landOn(page, f.portal.postLogoutUri);
    t.is(after.origin + after.pathname, f.portal.postLogoutUri);
    t.is(after.searchParams.get('state'), 's');
    t.is(await page.locator('body').textContent(), 'ok');

    // The session really ended: a silent sign-in from this browser now needs a login.
    const silent = await f.rp.authorizationRequest({ prompt: 'none' });
    await page.goto(silent.url);
    const result = await landOn(page, f.portal.redirectUri);
    t.is(result.searchParams.get('error'), 'login_required');
    t.is(result.searchParams.get('state'), silent.state);
  });
}
