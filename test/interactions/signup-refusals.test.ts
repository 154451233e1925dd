import test from 'ava';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { codeOf, openSignUp, PASSWORD, REDIRECT, signUpFields, signUpWorlds, visibleText } from './signup-fixture.ts';

const signUpWorld = signUpWorlds(test);

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] refusals name the field, keep the values but not the passwords, and create nothing`,
    async (t) => {
      const world = await signUpWorld(kind);
      const browser = new HttpBrowser();
      const { page } = await openSignUp(world, browser);

      const cases: Array<[string, Record<string, string>, string, RegExp]> = [
        ['short', { password: 'corta12', password_confirmation: 'corta12' }, 'password', /al menos 8 caracteres/],
        ['common', { password: 'Password123', password_confirmation: 'Password123' }, 'password', /muy común/],
        [
          'contains email',
          {
            password: 'soy-ANA.PEREZ-2024',
            password_confirmation: 'soy-ANA.PEREZ-2024',
            email: 'ana.perez@example.com',
          },
          'password',
          /no puede contener tu correo/,
        ],
        [
          'common, dressed up',
          { password: 'Qw3rty2026!', password_confirmation: 'Qw3rty2026!' },
          'password',
          /muy común con números, símbolos o letras cambiadas/,
        ],
        [
          'the product name',
          { password: 'Umbral2026', password_confirmation: 'Umbral2026' },
          'password',
          /no puede ser el nombre Umbral, aunque/,
        ],
        [
          'the portal name',
          { password: 'PortalDeClientes2026', password_confirmation: 'PortalDeClientes2026' },
          'password',
          /no puede ser el nombre Portal de Clientes, aunque/,
        ],
        [
          'the email’s local part as a word',
          {
            password: 'ana.perez2026',
            password_confirmation: 'ana.perez2026',
            email: 'ana.perez@example.com',
          },
          'password',
          /no puede contener tu correo/,
        ],
        ['mismatch', { password_confirmation: `${PASSWORD}!` }, 'password_confirmation', /no coinciden/],
        ['terms', { terms: '' }, 'terms', /debes aceptar los términos/],
        ['bad phone', { phone: '12' }, 'phone', /no es válido para el país/],
        ['bad email', { email: 'ana@' }, 'email', /correo electrónico válido/],
        ['no name', { name: '  ' }, 'name', /Escribe tu nombre/],
      ];
      for (const [label, overrides, fieldName, message] of cases) {
        const fields = signUpFields(overrides);
        const refused = await browser.submit(page, '/signup', fields);
        t.is(refused.status, 400, label);
        t.regex(refused.body, message, label);
        t.regex(refused.body, new RegExp(`id="${fieldName}-error"`), `${label}: the error sits at its field`);
        t.regex(refused.body, new RegExp(`id="${fieldName}"[^>]*aria-invalid="true"`), `${label}: the field is marked`);
        t.regex(refused.body, /Revisa los campos marcados/, label);
        if (fieldName !== 'name') t.true(refused.body.includes('value="Ana Pérez"'), `${label}: name kept`);
        if (fieldName !== 'email') t.true(refused.body.includes(`value="${fields['email']}"`), `${label}: email kept`);
        if (fieldName !== 'phone') t.true(refused.body.includes('value="55 1234 5678"'), `${label}: phone kept`);
        t.true(refused.body.includes('<option value="MX" selected>'), `${label}: country kept`);
        if (fieldName !== 'terms')
          t.regex(
            refused.body,
            /name="terms" type="checkbox" value="accepted" required checked/,
            `${label}: terms kept`,
          );
        // A password that passed and matched is typed back in, so only the other field needs fixing;
        // one refused (or not confirmed) is not sent back, and its error says why it is empty.
        const passwordRefused = fieldName === 'password' || fieldName === 'password_confirmation';
        if (passwordRefused)
          t.false(refused.body.includes(fields['password']!), `${label}: the password is not sent back`);
        else
          t.regex(
            refused.body,
            new RegExp(`id="password_confirmation"[^>]*value="${fields['password']}"`),
            `${label}: the valid password is kept`,
          );
        if (passwordRefused) t.notRegex(refused.body, /type="password"[^>]*value=/, `${label}: password fields empty`);
      }
      t.is((await world.server.users.list()).length, 0, 'nothing was created');
      t.is(world.smtp.received.length, 0, 'nothing was sent');

      // In English too, and a password at 256 characters is fine while 257 is not.
      const english = new HttpBrowser({ 'accept-language': 'en-US' });
      const { page: form } = await openSignUp(world, english);
      t.regex(form.body, /<option value="US" selected>/);
      const tooLong = 'x'.repeat(200) + 'Ñ'.repeat(57);
      const refused = await english.submit(
        form,
        '/signup',
        signUpFields({ password: tooLong, password_confirmation: tooLong, phone: '' }),
      );
      t.regex(refused.body, /at most 256 characters/);
      t.notRegex(refused.body, /phone-error/, 'the phone is optional by default (SIGNUP_PHONE)');
      t.regex(refused.body, /Mobile phone <span class="hint-inline">\(optional\)<\/span>/);
      const fine = 'correct horse '.repeat(18).slice(0, 256);
      const accepted = await english.submit(
        form,
        '/signup',
        signUpFields({ password: fine, password_confirmation: fine, phone: '+1 201 555 0123' }),
        REDIRECT,
      );
      t.regex(accepted.body, /Check your email/);
      t.is((await world.server.users.findByEmail('ana@example.com'))!.phone, '+12015550123');
    },
  );

  test.serial(`[${kind}] MIN_PASSWORD_LENGTH raises the floor; SIGNUP_PHONE=required asks for the phone`, async (t) => {
    const world = await signUpWorld(kind, { MIN_PASSWORD_LENGTH: '12', SIGNUP_PHONE: 'required' });
    const browser = new HttpBrowser();
    const { page } = await openSignUp(world, browser);
    t.regex(page.body, /Al menos 12 caracteres/);
    const refused = await browser.submit(
      page,
      '/signup',
      signUpFields({ password: 'ocho8ocho', password_confirmation: 'ocho8ocho', phone: '' }),
    );
    t.regex(refused.body, /al menos 12 caracteres/);
    t.regex(refused.body, /<legend>Celular<\/legend>/, 'labelled "Celular" in es-419, not marked optional');
    t.regex(refused.body, /id="phone-error" class="error">Escribe tu número de celular\./);
    t.regex(refused.body, /id="phone"[^>]* required/);
  });

  test.serial(
    `[${kind}] a sign-up with a registered email looks like any other; its owner is told by email`,
    async (t) => {
      const world = await signUpWorld(kind);
      const { server } = world;
      const owner = await server.users.create({
        email: 'Beto@Example.com',
        password: 'correct horse battery',
        name: 'Beto',
        emailVerified: true,
      });

      async function signUp(email: string) {
        const browser = new HttpBrowser();
        const { page } = await openSignUp(world, browser);
        const started = performance.now();
        const verify = await browser.submit(page, '/signup', signUpFields({ email }), REDIRECT);
        const ms = performance.now() - started;
        const post = browser.history.find((p) => p.url.endsWith('/signup') && p.status === 303);
        return { browser, verify, post: post!, ms };
      }
      const fresh = await signUp('nueva@example.com');
      const taken = await signUp('beto@example.com');

      t.is(taken.post.status, fresh.post.status);
      t.is(taken.post.status, 303);
      t.is(
        taken.post.headers.get('location')!.replace(/\/interaction\/[^/]+/, ''),
        fresh.post.headers.get('location')!.replace(/\/interaction\/[^/]+/, ''),
      );
      t.is(taken.verify.status, fresh.verify.status);
      t.is(
        visibleText(taken.verify).replace('beto@example.com', 'EMAIL'),
        visibleText(fresh.verify).replace('nueva@example.com', 'EMAIL'),
      );
      t.deepEqual(taken.browser.cookieNames().sort(), fresh.browser.cookieNames().sort());
      t.log(`sign-up POST: fresh ${Math.round(fresh.ms)} ms, registered ${Math.round(taken.ms)} ms`);

      const [notice] = await world.mailTo('Beto@Example.com');
      t.is(notice!.subject, 'Intento de registro en Umbral con tu correo');
      t.true((notice!.text ?? '').includes(`${server.issuer}/password/forgot`), 'a link to reset the password');
      await world.mailTo('nueva@example.com');
      t.is(world.smtp.received.length, 2, 'no verification email for the registered address');
      const users = await server.users.list();
      t.is(users.filter((u) => u.email.toLowerCase() === 'beto@example.com').length, 1, 'no second account');
      t.is(
        (await server.users.findById(owner.id))!.password_hash,
        owner.password_hash,
        'the owner’s password is untouched',
      );

      // Codes on the stand-in step fail exactly like wrong codes on a real one, even the code sent to the real one.
      const realCode = codeOf((await world.mailTo('nueva@example.com'))[0]!);
      const wrongCode = realCode === '000000' ? '111111' : '000000';
      const freshWrong = await fresh.browser.submit(fresh.verify, '/verify', { code: wrongCode });
      const takenWrong = await taken.browser.submit(taken.verify, '/verify', { code: realCode });
      t.is(takenWrong.status, freshWrong.status);
      t.is(
        visibleText(takenWrong).replace('beto@example.com', 'EMAIL'),
        visibleText(freshWrong).replace('nueva@example.com', 'EMAIL'),
      );
      t.regex(takenWrong.body, /El código no es correcto/);

      // Resending behaves the same too.
      const freshResend = await fresh.browser.submit(fresh.verify, '/verify/resend', {});
      const takenResend = await taken.browser.submit(taken.verify, '/verify/resend', {});
      t.is(takenResend.status, freshResend.status);
      const seconds = (text: string) => text.replace(/\d+ segundos?/, 'N segundos');
      t.is(
        seconds(visibleText(takenResend).replace('beto@example.com', 'EMAIL')),
        seconds(visibleText(freshResend).replace('nueva@example.com', 'EMAIL')),
      );

      // The owner still signs in as before.
      const login = await world.rp.signIn(new HttpBrowser(), 'beto@example.com', 'correct horse battery');
      t.true(login.callback.url.startsWith(REDIRECT));
    },
  );
}
