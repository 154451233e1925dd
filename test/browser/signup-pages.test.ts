import test from 'ava';
import type { Page } from 'playwright-core';
import { codeOf, linkOf } from '../interactions/signup-fixture.ts';
import { BROWSER_STORES } from '../support/stores.ts';
import { expectHeading, landOn, newContext } from './browser-support.ts';
import { type MailWorld, mailSuite } from './mail-suite.ts';

// Sign-up and email verification in real Chromium with JavaScript off, Umbral's mail going
// over SMTP to a server started here. One browser and one Umbral per store for the file,
// a fresh browser context and fresh email addresses per test. Serial: Chromium and argon2
// side by side swamp a two-core machine.

const PASSWORD = 'luna llena sobre el volcán';

type World = MailWorld;

const { worlds, browser, noJsPage } = mailSuite(test);

/** Asks for the claims in the ID token itself (the code flow otherwise puts scope claims in userinfo only). */
function authorizationRequest(world: World, params: Record<string, string> = {}) {
  return world.rp.authorizationRequest({
    scope: 'openid email profile phone',
    claims: JSON.stringify({ id_token: { email: null, email_verified: null, name: null, phone_number: null } }),
    ...params,
  });
}

interface SignUpInput {
  name: string;
  email: string;
  country?: string;
  phone: string;
  password: string;
  confirmation?: string;
}

/** Fills the sign-up form as a person does, accepts the terms and clicks "Crear cuenta". */
async function fillSignUp(page: Page, input: SignUpInput): Promise<void> {
  await page.getByLabel('Nombre y apellido').fill(input.name);
  await page.getByLabel('Correo electrónico').fill(input.email);
  if (input.country) await page.getByLabel('País o región').selectOption(input.country);
  await page.getByLabel('Número').fill(input.phone);
  await page.getByLabel('Contraseña', { exact: true }).fill(input.password);
  await page.getByLabel('Repite la contraseña').fill(input.confirmation ?? input.password);
  await page.getByRole('checkbox', { name: /^Acepto los Términos del servicio y el Aviso de privacidad/ }).check();
  await page.getByRole('button', { name: 'Crear cuenta' }).click();
}

/** From the portal's authorization request to the sign-up page, through "Crear cuenta" on the login page. */
async function openSignUpFromLogin(page: Page, world: World) {
  const request = await authorizationRequest(world);
  await page.goto(request.url);
  await expectHeading(page, 'Inicia sesión');
  await page.getByRole('link', { name: 'Crear cuenta' }).click();
  await expectHeading(page, 'Crea tu cuenta');
  return request;
}

async function attribute(page: Page, label: string, name: string, exact = false): Promise<string | null> {
  return page.getByLabel(label, { exact }).getAttribute(name);
}

for (const kind of BROWSER_STORES) {
  const world = () => worlds.get(kind)!;

  test.serial(
    `[${kind}] "Crear cuenta" → form → "revisa tu correo" → the emailed code → the portal gets an ID token for the new account`,
    async (t) => {
      const w = world();
      const page = await noJsPage(t, w);
      const email = `Ana.Codigo.${kind}@Example.com`;
      const request = await openSignUpFromLogin(page, w);
      t.true(await page.getByText('para continuar en Portal de Clientes').isVisible());
      t.is(await page.getByLabel('País o región').inputValue(), 'MX', 'a Spanish (Mexico) browser preselects Mexico');

      await fillSignUp(page, { name: 'Ana Pérez', email, phone: '55 1234 5678', password: PASSWORD });
      await expectHeading(page, 'Revisa tu correo');
      t.regex(new URL(page.url()).pathname, /^\/interaction\/[\w-]+\/verify$/);
      t.true(await page.getByText(`Te enviamos un código de 6 dígitos y un enlace a ${email}.`).isVisible());

      const user = await w.server.users.findByEmail(email);
      t.truthy(user, 'the account exists');
      t.false(user!.email_verified, 'not verified yet');
      t.is(user!.phone, '+525512345678', 'the phone is stored in E.164');
      t.truthy(user!.terms_accepted_at, 'the terms acceptance is recorded');

      const [mail] = await w.mailTo(email);
      const code = codeOf(mail!);
      t.is(mail!.subject, `${code} es tu código · Confirma tu correo para Umbral`, 'the code in the subject');
      await page.getByLabel('Código de verificación').fill(code);
      await page.getByRole('button', { name: 'Verificar' }).click();

      const callback = await landOn(page, w.portal.redirectUri);
      t.is(callback.searchParams.get('state'), request.state);
      const tokens = await w.rp.exchange(callback.href, request);
      const claims = tokens.claims()!;
      t.is(claims.sub, user!.id);
      t.is(claims['email'], email);
      t.is(claims['email_verified'], true);
      t.is(claims['name'], 'Ana Pérez');
      t.is(claims['phone_number'], '+525512345678');
      t.true((await w.server.users.findById(user!.id))!.email_verified, 'the email is verified');
    },
  );

  test.serial(
    `[${kind}] the emailed link, clicked in the same browser, verifies and continues to the portal`,
    async (t) => {
      const w = world();
      const page = await noJsPage(t, w);
      const email = `beto.enlace.${kind}@example.com`;
      const request = await openSignUpFromLogin(page, w);
      await fillSignUp(page, { name: 'Beto Ruiz', email, country: 'ES', phone: '612 34 56 78', password: PASSWORD });
      await expectHeading(page, 'Revisa tu correo');

      const [mail] = await w.mailTo(email);
      const link = linkOf(mail!);
      t.true(link.startsWith(`${w.server.issuer}/verify-email?token=`), 'the link is built from ISSUER');
      await page.goto(link);
      await expectHeading(page, 'Confirma tu correo');
      t.true(await page.getByText(`Confirma que ${email} es tu correo electrónico.`).isVisible());
      const user = await w.server.users.findByEmail(email);
      t.false(user!.email_verified, 'opening the link alone verifies nothing (mail scanners open links)');
      await page.getByRole('button', { name: 'Confirmar mi correo' }).click();

      const callback = await landOn(page, w.portal.redirectUri);
      const tokens = await w.rp.exchange(callback.href, request);
      const claims = tokens.claims()!;
      t.is(claims.sub, user!.id);
      t.is(claims['email'], email);
      t.is(claims['phone_number'], '+34612345678');

      // Used once: the same link now does nothing more than say the account is verified.
      await page.goto(link);
      await expectHeading(page, 'Cuenta verificada');
    },
  );

  test.serial(`[${kind}] prompt=create opens the sign-up form directly, with a way to the login`, async (t) => {
    const w = world();
    const page = await noJsPage(t, w);
    const email = `carla.create.${kind}@example.com`;
    const request = await authorizationRequest(w, { prompt: 'create' });
    await page.goto(request.url);
    await expectHeading(page, 'Crea tu cuenta');
    t.regex(new URL(page.url()).pathname, /^\/interaction\/[\w-]+$/, 'no detour through the login page');
    t.true(await page.getByRole('link', { name: 'Inicia sesión' }).isVisible(), '"¿Ya tienes cuenta? Inicia sesión"');

    await fillSignUp(page, { name: 'Carla Núñez', email, phone: '+52 33 1234 5678', password: PASSWORD });
    await expectHeading(page, 'Revisa tu correo');
    const [mail] = await w.mailTo(email);
    await page.getByLabel('Código de verificación').fill(codeOf(mail!));
    await page.getByRole('button', { name: 'Verificar' }).click();
    const callback = await landOn(page, w.portal.redirectUri);
    const claims = (await w.rp.exchange(callback.href, request)).claims()!;
    t.is(claims.sub, (await w.server.users.findByEmail(email))!.id);
    t.is(claims['email'], email);
  });

  test.serial(
    `[${kind}] the link confirmed on another device lets the first browser finish, even through "Enviar un código nuevo"`,
    async (t) => {
      const w = world();
      const page = await noJsPage(t, w);
      const email = `fede.otro.${kind}@example.com`;
      const request = await openSignUpFromLogin(page, w);
      await fillSignUp(page, { name: 'Fede Otro', email, phone: '55 2345 6789', password: PASSWORD });
      await expectHeading(page, 'Revisa tu correo');

      const [mail] = await w.mailTo(email);
      const phone = await noJsPage(t, w);
      await phone.goto(linkOf(mail!));
      await phone.getByRole('button', { name: 'Confirmar mi correo' }).click();
      await expectHeading(phone, 'Cuenta verificada');
      t.true(await phone.getByText('Tu correo electrónico quedó verificado. Ya puedes iniciar sesión.').isVisible());

      // The first browser, still on "Revisa tu correo", asks for a new code: its account is verified already.
      await page.getByRole('button', { name: 'Enviar un código nuevo' }).click();
      const callback = await landOn(page, w.portal.redirectUri);
      const claims = (await w.rp.exchange(callback.href, request)).claims()!;
      t.is(claims.sub, (await w.server.users.findByEmail(email))!.id);
      t.is(w.receivedBy(email).length, 1, 'no code is mailed to a verified account');
    },
  );

  test.serial(
    `[${kind}] the form sent again (back button) keeps this browser on its own verification: the emailed code still works`,
    async (t) => {
      const w = world();
      const page = await noJsPage(t, w);
      const email = `hugo.otravez.${kind}@example.com`;
      const input = { name: 'Hugo Otra Vez', email, phone: '55 3456 7890', password: PASSWORD };
      const request = await openSignUpFromLogin(page, w);
      await fillSignUp(page, input);
      await expectHeading(page, 'Revisa tu correo');

      await page.goBack();
      await expectHeading(page, 'Crea tu cuenta');
      await fillSignUp(page, input);
      await expectHeading(page, 'Revisa tu correo');
      const users = (await w.server.users.list()).filter((u) => u.email.toLowerCase() === email);
      t.is(users.length, 1, 'one account');

      const [mail] = await w.mailTo(email);
      await page.getByLabel('Código de verificación').fill(codeOf(mail!));
      await page.getByRole('button', { name: 'Verificar' }).click();
      const callback = await landOn(page, w.portal.redirectUri);
      t.is((await w.rp.exchange(callback.href, request)).claims()!.sub, users[0]!.id);
      t.is(w.receivedBy(email).length, 1, 'no "someone tried to register" email to the person signing up');
    },
  );

  test.serial(
    `[${kind}] the sign-up page and its errors speak the browser's language, or the one the portal asks for`,
    async (t) => {
      const w = world();
      const { page } = await newContext(t, browser(), { javaScriptEnabled: false, locale: 'pt-BR' });
      const email = `gabi.idioma.${kind}@example.com`;
      await page.goto((await authorizationRequest(w, { prompt: 'create' })).url);
      await expectHeading(page, 'Crie sua conta');
      t.is(await page.getByLabel('País ou região').inputValue(), 'BR', 'a Brazilian browser preselects Brazil');
      await page.getByLabel('Nome completo').fill('Gabi Souza');
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Número').fill('11 91234 5678');
      await page.getByLabel('Senha', { exact: true }).fill('password123');
      await page.getByLabel('Repita a senha').fill('password123');
      await page.getByRole('checkbox', { name: /^Aceito os Termos de Serviço e a Política de Privacidade/ }).check();
      await page.getByRole('button', { name: 'Criar conta' }).click();
      const error = page.locator('#password-error');
      await error.waitFor();
      t.is((await error.textContent())?.trim(), 'Essa senha é muito comum e fácil de adivinhar. Escolha outra.');
      t.is(await page.getByLabel('Número').inputValue(), '11 91234 5678');
      t.is(await page.getByLabel('País ou região').inputValue(), 'BR');

      // ui_locales wins over the browser's language.
      const spanish = await noJsPage(t, w);
      await spanish.goto((await authorizationRequest(w, { prompt: 'create', ui_locales: 'en' })).url);
      await expectHeading(spanish, 'Create your account');
      await spanish.getByLabel('Full name').fill('Gabi Souza');
      await spanish.getByRole('button', { name: 'Create account' }).click();
      const emailError = spanish.locator('#email-error');
      await emailError.waitFor();
      t.is((await emailError.textContent())?.trim(), 'Enter a valid email address, for example name@company.com.');
      t.is(await spanish.getByLabel('Full name').inputValue(), 'Gabi Souza');
    },
  );

  const refusals = [
    {
      what: 'a common password',
      password: 'password123',
      confirmation: 'password123',
      field: 'password',
      message: 'Esa contraseña es muy común y fácil de adivinar. Elige otra.',
    },
    {
      what: "a password containing the email's local part",
      password: 'Dora.Refusal es mi clave',
      confirmation: 'Dora.Refusal es mi clave',
      field: 'password',
      message: 'La contraseña no puede contener tu correo electrónico.',
    },
    {
      what: 'a confirmation that does not match',
      password: PASSWORD,
      confirmation: `${PASSWORD}!`,
      field: 'password_confirmation',
      message: 'Las contraseñas no coinciden.',
    },
  ];

  for (const refusal of refusals) {
    test.serial(
      `[${kind}] ${refusal.what} is refused on the field, in Spanish, the other values kept and the passwords not`,
      async (t) => {
        const w = world();
        const page = await noJsPage(t, w);
        const email = `dora.refusal@${kind}.example.com`;
        await openSignUpFromLogin(page, w);

        const refused = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/signup'));
        await fillSignUp(page, {
          name: 'Dora Refusal',
          email,
          country: 'ES',
          phone: '612 34 56 78',
          password: refusal.password,
          confirmation: refusal.confirmation,
        });
        t.is((await refused).status(), 400);

        const error = page.locator(`#${refusal.field}-error`);
        await error.waitFor();
        t.is((await error.textContent())?.trim(), refusal.message);
        await expectHeading(page, 'Crea tu cuenta');
        t.is((await page.getByRole('alert').textContent())?.trim(), 'Revisa los campos marcados.');
        const field =
          refusal.field === 'password'
            ? page.getByLabel('Contraseña', { exact: true })
            : page.getByLabel('Repite la contraseña');
        t.is(await field.getAttribute('aria-invalid'), 'true');
        t.regex((await field.getAttribute('aria-describedby')) ?? '', new RegExp(`\\b${refusal.field}-error\\b`));
        t.is(await page.locator('.error:not(.error-summary)').count(), 1, 'only the refused field is marked');

        t.is(await page.getByLabel('Nombre y apellido').inputValue(), 'Dora Refusal');
        t.is(await page.getByLabel('Correo electrónico').inputValue(), email);
        t.is(await page.getByLabel('País o región').inputValue(), 'ES');
        t.is(await page.getByLabel('Número').inputValue(), '612 34 56 78');
        t.true(await page.getByRole('checkbox', { name: /^Acepto los/ }).isChecked());
        t.is(await page.getByLabel('Contraseña', { exact: true }).inputValue(), '', 'the password is not sent back');
        t.is(await page.getByLabel('Repite la contraseña').inputValue(), '', 'the confirmation is not sent back');
        t.false((await page.content()).includes(refusal.password), 'the password appears nowhere in the page');

        t.is(await w.server.users.findByEmail(email), undefined, 'no account was created');
      },
    );
  }

  test.serial(`[${kind}] the forms carry the standard autocomplete attributes and a CSRF token`, async (t) => {
    const w = world();
    const page = await noJsPage(t, w);
    const email = `eva.autocomplete.${kind}@example.com`;
    await openSignUpFromLogin(page, w);
    t.is(await attribute(page, 'Nombre y apellido', 'autocomplete'), 'name');
    t.true(
      ['email', 'username'].includes((await attribute(page, 'Correo electrónico', 'autocomplete')) ?? ''),
      'email or username',
    );
    t.is(await attribute(page, 'Correo electrónico', 'type'), 'email');
    t.is(await attribute(page, 'Número', 'autocomplete'), 'tel');
    t.is(await attribute(page, 'Número', 'type'), 'tel');
    t.is(await attribute(page, 'Contraseña', 'autocomplete', true), 'new-password');
    t.is(await attribute(page, 'Repite la contraseña', 'autocomplete'), 'new-password');
    for (const form of await page.locator('form').all()) {
      t.is(await form.getAttribute('method'), 'post');
      t.is(
        await form.locator('input[type="hidden"][name="_csrf"]').count(),
        1,
        `${await form.getAttribute('action')} carries _csrf`,
      );
    }

    await fillSignUp(page, { name: 'Eva Autocompleta', email, phone: '55 8765 4321', password: PASSWORD });
    await expectHeading(page, 'Revisa tu correo');
    t.is(await attribute(page, 'Código de verificación', 'autocomplete'), 'one-time-code');
    t.is(await attribute(page, 'Código de verificación', 'inputmode'), 'numeric');
    t.true((await page.locator('form').count()) >= 2);
    for (const form of await page.locator('form').all()) {
      t.is(
        await form.locator('input[type="hidden"][name="_csrf"]').count(),
        1,
        `${await form.getAttribute('action')} carries _csrf`,
      );
    }

    const [mail] = await w.mailTo(email);
    await page.goto(linkOf(mail!));
    await expectHeading(page, 'Confirma tu correo');
    t.is(
      await page.locator('form input[type="hidden"][name="_csrf"]').count(),
      1,
      'the link confirmation form carries _csrf',
    );
  });
}
