import test, { type ExecutionContext } from 'ava';
import type { Page, Request as PlaywrightRequest } from 'playwright-core';
import { BROWSER_STORES } from '../support/stores.ts';
import { CREDENTIALS_ERROR, expectHeading, landOn, submitEmail, submitPassword } from './browser-support.ts';
import { type MailWorld, mailSuite } from './mail-suite.ts';

// Forgot and reset password in real Chromium with JavaScript off, the emails going over SMTP
// to a server started here. One browser and one Umbral per store for the file, a fresh browser
// context and a user of its own per test. Serial: Chromium and argon2 side by side swamp a
// two-core machine.

const OLD_PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'cielo de lluvia en octubre';
const PASSWORD_CHANGED_NOTICE = 'Tu contraseña se cambió. Inicia sesión con la nueva.';

type World = MailWorld;

const { worlds, noJsPage } = mailSuite(test);

async function createUser(world: World, email: string) {
  return world.server.users.create({ email, password: OLD_PASSWORD, name: 'Ana Pérez', emailVerified: true });
}

/** The reset link of the newest "Restablece tu contraseña" email to `to` (waiting for the `count`th). */
async function resetLink(world: World, to: string, count = 1): Promise<string> {
  const mails = (await world.mailTo(to, count)).filter((m) => m.subject === 'Restablece tu contraseña de Umbral');
  const mail = mails.at(-1);
  if (!mail) throw new Error(`no reset email to ${to}`);
  return /^(http\S+\/password\/reset\?token=\S+)$/m.exec(mail.text ?? '')![1]!;
}

/** On the "¿Olvidaste tu contraseña?" page: sends the form; returns what a person sees on the confirmation. */
async function sendForgotForm(page: Page, email: string) {
  await page.getByLabel('Correo electrónico').fill(email);
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/forgot'),
  );
  await page.getByRole('button', { name: 'Enviar enlace' }).click();
  const status = (await posted).status();
  await expectHeading(page, 'Revisa tu correo');
  return {
    status,
    text: await page.locator('main').innerText(),
    path: new URL(page.url()).pathname.replace(/\/interaction\/[^/]+/, '/interaction/UID'),
  };
}

/** From a portal's authorization request to the password step, then "¿Olvidaste tu contraseña?". */
async function forgotFromPasswordStep(
  t: ExecutionContext,
  world: World,
  page: Page,
  email: string,
  params: Record<string, string> = {},
) {
  const request = await world.rp.authorizationRequest(params);
  await page.goto(request.url);
  await submitEmail(page, email);
  t.is(await page.getByLabel('Contraseña', { exact: true }).getAttribute('autocomplete'), 'current-password');
  await page.getByRole('link', { name: '¿Olvidaste tu contraseña?' }).click();
  await expectHeading(page, '¿Olvidaste tu contraseña?');
  t.is(await page.getByLabel('Correo electrónico').inputValue(), email, 'the email of the sign-in is filled in');
  t.is(await page.getByLabel('Correo electrónico').getAttribute('autocomplete'), 'username');
  const sent = await sendForgotForm(page, email);
  return { request, sent };
}

/** On the reset page: types the new password twice and clicks "Cambiar contraseña". */
async function chooseNewPassword(page: Page, password: string, confirmation = password) {
  await expectHeading(page, 'Crea una contraseña nueva');
  await page.getByLabel('Contraseña nueva', { exact: true }).fill(password);
  await page.getByLabel('Repite la contraseña nueva').fill(confirmation);
  await page.getByRole('button', { name: 'Cambiar contraseña' }).click();
}

for (const kind of BROWSER_STORES) {
  const world = () => worlds.get(kind)!;

  test.serial(
    `[${kind}] "¿Olvidaste tu contraseña?" → emailed link → new password twice → back at login with the notice; old password refused, new one signs in`,
    async (t) => {
      const w = world();
      const user = await createUser(w, `ana.reset.${kind}@example.com`);
      const unknown = `nadie.reset.${kind}@example.com`;

      const page = await noJsPage(t, w);
      const { request, sent } = await forgotFromPasswordStep(t, w, page, user.email);
      t.is(sent.status, 303, '303 after the forgot POST');
      t.true(await page.getByRole('link', { name: 'Volver a iniciar sesión' }).isVisible());

      // An unknown email reads exactly the same, in a browser of its own.
      const other = await noJsPage(t, w);
      const { sent: sentUnknown } = await forgotFromPasswordStep(t, w, other, unknown);
      t.deepEqual(sentUnknown, sent, 'same status, page and words for a known and an unknown email');

      const link = await resetLink(w, user.email);
      t.true(link.startsWith(`${w.server.issuer}/password/reset?token=`), 'the link is built from ISSUER');
      await page.goto(link);
      await expectHeading(page, 'Crea una contraseña nueva');
      t.true(await page.getByText(user.email).isVisible(), 'the account is named');
      t.is(await page.getByLabel('Contraseña nueva', { exact: true }).getAttribute('autocomplete'), 'new-password');
      t.is(await page.getByLabel('Repite la contraseña nueva').getAttribute('autocomplete'), 'new-password');
      t.is(await page.locator('form input[type="hidden"][name="_csrf"]').count(), 1);

      const posted = page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/password/reset',
      );
      await chooseNewPassword(page, NEW_PASSWORD);
      t.is((await posted).status(), 303, '303 after the reset POST');
      await expectHeading(page, 'Escribe tu contraseña');
      t.regex(new URL(page.url()).pathname, /^\/interaction\/[\w-]+$/, 'back in the sign-in it started from');
      t.is((await page.getByRole('status').textContent())?.trim(), PASSWORD_CHANGED_NOTICE);
      t.is((await page.locator('.identity-email').textContent())?.trim(), user.email);

      await submitPassword(page, OLD_PASSWORD);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      t.is((await alert.textContent())?.trim(), CREDENTIALS_ERROR, 'the old password is refused');

      await submitPassword(page, NEW_PASSWORD);
      const callback = await landOn(page, w.portal.redirectUri);
      const claims = (await w.rp.exchange(callback.href, request)).claims()!;
      t.is(claims.sub, user.id);

      const mails = await w.mailTo(user.email, 2);
      t.is(mails[1]!.subject, 'Se cambió tu contraseña de Umbral', 'the owner is told');
      t.is(w.receivedBy(unknown).length, 0, 'nothing was sent to the unknown email');

      // Single use: the same link now shows the invalid-link page.
      const reopened = await page.goto(link);
      t.is(reopened?.status(), 400);
      await expectHeading(page, 'Este enlace ya no es válido');
    },
  );

  test.serial(
    `[${kind}] from /password/forgot, a link opened on another device resets; a used or superseded link shows the invalid-link page`,
    async (t) => {
      const w = world();
      const user = await createUser(w, `beto.reset.${kind}@example.com`);
      const page = await noJsPage(t, w);
      await page.goto(`${w.server.issuer}/password/forgot`);
      await expectHeading(page, '¿Olvidaste tu contraseña?');
      await sendForgotForm(page, user.email);
      const first = await resetLink(w, user.email);
      await page.goto(`${w.server.issuer}/password/forgot`);
      await sendForgotForm(page, user.email);
      const second = await resetLink(w, user.email, 2);
      t.not(second, first);

      const device = await noJsPage(t, w);
      const superseded = await device.goto(first);
      t.is(superseded?.status(), 400, 'a newer link invalidates the older one');
      await expectHeading(device, 'Este enlace ya no es válido');

      await device.goto(second);
      await chooseNewPassword(device, NEW_PASSWORD);
      await expectHeading(device, 'Tu contraseña se cambió');

      const used = await device.goto(second);
      t.is(used?.status(), 400);
      await expectHeading(device, 'Este enlace ya no es válido');
      await device.getByRole('link', { name: 'Pedir un enlace nuevo' }).click();
      await expectHeading(device, '¿Olvidaste tu contraseña?');

      // No sign-in came with the reset: the portal's next request goes through the login, with the new password.
      const request = await w.rp.authorizationRequest();
      await device.goto(request.url);
      await submitEmail(device, user.email);
      await submitPassword(device, NEW_PASSWORD);
      const callback = await landOn(device, w.portal.redirectUri);
      t.is((await w.rp.exchange(callback.href, request)).claims()!.sub, user.id);
    },
  );

  test.serial(
    `[${kind}] under prompt=create, "¿Olvidaste tu contraseña?" on the password step works and the reset comes back to the sign-in`,
    async (t) => {
      const w = world();
      const user = await createUser(w, `carla.reset.${kind}@example.com`);
      const page = await noJsPage(t, w);
      const request = await w.rp.authorizationRequest({ prompt: 'create' });
      await page.goto(request.url);
      await expectHeading(page, 'Crea tu cuenta');
      await page.getByRole('link', { name: 'Inicia sesión' }).click();
      await expectHeading(page, 'Inicia sesión');
      await submitEmail(page, user.email);
      await page.getByRole('link', { name: '¿Olvidaste tu contraseña?' }).click();
      await expectHeading(page, '¿Olvidaste tu contraseña?');
      await sendForgotForm(page, user.email);

      await page.goto(await resetLink(w, user.email));
      await chooseNewPassword(page, NEW_PASSWORD);
      await expectHeading(page, 'Escribe tu contraseña');
      t.is((await page.getByRole('status').textContent())?.trim(), PASSWORD_CHANGED_NOTICE);
      await submitPassword(page, NEW_PASSWORD);
      const callback = await landOn(page, w.portal.redirectUri);
      t.is((await w.rp.exchange(callback.href, request)).claims()!.sub, user.id);
    },
  );

  test.serial(
    `[${kind}] the reset page states why a new password is refused, in Spanish, and changes nothing`,
    async (t) => {
      const w = world();
      const user = await createUser(w, `dora.reset.${kind}@example.com`);
      const page = await noJsPage(t, w);
      await page.goto(`${w.server.issuer}/password/forgot`);
      await sendForgotForm(page, user.email);
      const link = await resetLink(w, user.email);
      await page.goto(link);

      const tooLong = 'x'.repeat(1100);
      const cases = [
        {
          password: 'password123',
          confirmation: 'password123',
          error: 'password-error',
          message: 'Esa contraseña es muy común y fácil de adivinar. Elige otra.',
        },
        {
          password: `Dora.Reset.${kind} es mi clave`,
          confirmation: `Dora.Reset.${kind} es mi clave`,
          error: 'password-error',
          message: 'La contraseña no puede contener tu correo electrónico.',
        },
        {
          password: 'corta',
          confirmation: 'corta',
          error: 'password-error',
          message: 'La contraseña debe tener al menos 8 caracteres.',
        },
        {
          password: tooLong,
          confirmation: tooLong,
          error: 'password-error',
          message: 'La contraseña puede tener como máximo 256 caracteres.',
        },
        {
          password: NEW_PASSWORD,
          confirmation: `${NEW_PASSWORD}.`,
          error: 'confirmation-error',
          message: 'Las contraseñas no coinciden. Escríbela igual en los dos campos.',
        },
      ];
      for (const refusal of cases) {
        const posted = page.waitForResponse(
          (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/password/reset',
        );
        const navigated = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame());
        await chooseNewPassword(page, refusal.password, refusal.confirmation);
        t.is((await posted).status(), 400, refusal.message);
        await navigated; // the refusal's page, not the one before it
        await page.waitForLoadState('domcontentloaded');
        const error = page.locator('p.error');
        await error.first().waitFor();
        t.is(await error.count(), 1, 'one field is marked');
        t.deepEqual(
          { id: await error.getAttribute('id'), text: (await error.textContent())?.trim() },
          { id: refusal.error, text: refusal.message },
        );
        await expectHeading(page, 'Crea una contraseña nueva');
        t.is(
          await page.getByLabel('Contraseña nueva', { exact: true }).inputValue(),
          '',
          'the password is not sent back',
        );
        t.is(await page.getByLabel('Repite la contraseña nueva').inputValue(), '', 'the confirmation is not sent back');
      }
      t.is((await w.server.users.findById(user.id))!.password_hash, user.password_hash, 'the password is unchanged');

      // The link still works after the refusals.
      await chooseNewPassword(page, NEW_PASSWORD);
      await expectHeading(page, 'Tu contraseña se cambió');
      t.not((await w.server.users.findById(user.id))!.password_hash, user.password_hash);
    },
  );
}

for (const kind of BROWSER_STORES) {
  test.serial(
    `[${kind}] opened in Chromium, the reset link ends on /password/reset without its token, says no-referrer, leaks the token in no Referer, and its form (CSRF included) takes the new password`,
    async (t) => {
      const w = worlds.get(kind)!;
      const user = await createUser(w, `eva.reset.${kind}@example.com`);
      const page = await noJsPage(t, w);
      await page.goto(`${w.server.issuer}/password/forgot`);
      await sendForgotForm(page, user.email);
      const link = await resetLink(w, user.email);
      const token = new URL(link).searchParams.get('token')!;

      // Opened in a browser of its own (nothing cached: every asset is fetched). Every request its
      // page makes is recorded; the headers Chromium really sent are read at the end.
      const device = await noJsPage(t, w);
      const seen: PlaywrightRequest[] = [];
      device.on('request', (request) => seen.push(request));
      const response = await device.goto(link);
      await expectHeading(device, 'Crea una contraseña nueva');
      await device.waitForLoadState('load');
      t.is(device.url(), `${w.server.issuer}/password/reset`, 'no token in the final URL');
      t.is(response?.status(), 200);
      t.is(response?.headers()['referrer-policy'], 'no-referrer');
      t.is(await device.locator('meta[name="referrer"]').getAttribute('content'), 'no-referrer');
      t.is(await device.locator('input[name="token"]').count(), 0, 'no token field');

      const posted = device.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/password/reset',
      );
      await chooseNewPassword(device, NEW_PASSWORD);
      t.is((await posted).status(), 303, 'the CSRF check lets the form through');
      await expectHeading(device, 'Tu contraseña se cambió');
      t.not((await w.server.users.findById(user.id))!.password_hash, user.password_hash);

      const requests = await Promise.all(
        seen.map(async (r) => ({ url: r.url(), method: r.method(), headers: await r.allHeaders() })),
      );
      // The reset page's own asset requests: before its POST. Those Chromium fetched over the network
      // (not from its memory cache) show every header it sent.
      const assets = requests
        .slice(
          0,
          requests.findIndex((r) => r.method === 'POST'),
        )
        .filter((r) => new URL(r.url).pathname.startsWith('/assets/'));
      const fetched = assets.filter((r) => r.headers['host']);
      t.true(
        fetched.some((r) => r.url.endsWith('/assets/umbral.css')),
        `the page's stylesheet came over the network: ${requests.map((r) => r.url).join(', ')}`,
      );
      for (const asset of fetched) t.false('referer' in asset.headers, `${asset.url}: no Referer at all`);
      for (const request of requests) {
        t.false(
          (request.headers['referer'] ?? '').includes(token),
          `${request.method} ${request.url} carries no token in its Referer`,
        );
      }
      t.deepEqual(
        requests.filter((r) => r.url.includes(token)).map((r) => r.url),
        [link],
        'no URL but the link itself carries the token',
      );
      // What Chromium really sends from a no-referrer page, and what csrf.ts lets through for it.
      const post = requests.find((r) => r.method === 'POST');
      t.deepEqual(
        { origin: post?.headers['origin'], site: post?.headers['sec-fetch-site'] },
        { origin: 'null', site: 'same-origin' },
      );
    },
  );
}
