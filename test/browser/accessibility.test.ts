import test from 'ava';
import { generate } from 'otplib';
import { startFederatedUmbral } from '../federation/federation-world.ts';
import { startTwilioStandIn } from '../mfa/twilio-stand-in.ts';
import { startMailbox } from '../password-reset/password-reset-mailbox.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { BROWSER_STORES, createTestStore } from '../support/stores.ts';
import { OPERATOR_CONSOLE_STATES, walkOperatorConsole } from './accessibility-admin.ts';
import { COVERED, walkCompanies, walkFederation, walkLandings, walkSecondFactors } from './accessibility-pages.ts';
import { AxeAudit } from './axe-audit.ts';
import {
  expectHeading,
  landOn,
  launchChromium,
  newContext,
  PASSWORD,
  startPortal,
  submitEmail,
  submitPassword,
} from './browser-support.ts';

// Every hosted page and state through axe-core at WCAG 2.2 AA, in light and dark and at phone and
// desktop widths. Cheap on purpose: one Chromium, one Umbral, each page loaded once and audited
// at both widths, with every rule in light and the colour rules in dark (axe-audit.ts), by
// switching the colour scheme and the viewport on the same page.

const PHONE = '+525512345678';
const NEW_PASSWORD = `${PASSWORD} nueva`;
for (const kind of BROWSER_STORES) {
  test.serial(
    `[${kind}] every hosted page and state has no axe violations at WCAG 2.2 AA, light and dark, 390 and 1280 px`,
    async (t) => {
      const stops: Array<() => Promise<void>> = [];
      t.teardown(async () => {
        for (const stop of stops.reverse()) await stop();
      });
      const mailbox = await startMailbox();
      stops.push(() => mailbox.close());
      const twilio = await startTwilioStandIn();
      stops.push(() => twilio.close());
      const store = await createTestStore(kind);
      stops.push(() => store.cleanup());
      const { server, google } = await startFederatedUmbral(store, { SMTP_URL: mailbox.url, ...twilio.env }, stops);
      const portal = await startPortal();
      stops.push(() => portal.close());
      const browser = await launchChromium();
      stops.push(() => browser.close());
      const client = await server.registerClient({
        clientId: 'portal',
        name: 'Portal de Clientes',
        redirectUris: [portal.redirectUri],
        postLogoutRedirectUris: [portal.postLogoutUri],
        brandColor: '#0b5d3b',
        tosUri: `${portal.origin}/terms`,
        policyUri: `${portal.origin}/privacy`,
      });
      const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, portal.redirectUri);
      const registered = async (clientId: string, extra: Record<string, unknown>) => {
        const { client_secret } = await server.registerClient({
          clientId,
          redirectUris: [portal.redirectUri],
          ...extra,
        });
        return RelyingParty.discover(server.issuer, clientId, client_secret, portal.redirectUri);
      };
      const thirdRp = await registered('third', { name: 'Portal Externo', firstParty: false });
      const mfaRp = await registered('mfa-portal', { name: 'Portal Seguro', requireMfa: true });
      const orgRp = await registered('org-portal', { name: 'Portal Empresas', organization: 'required' });
      const companyRp = await registered('company-portal', { name: 'Portal Empresas', collectCompany: true });

      const { audit, violations, problems, audited } = new AxeAudit();

      // A browser in Chile: its time zone reaches the account through the forms' hidden field.
      const { context, page } = await newContext(t, browser, { timezoneId: 'America/Santiago' });
      t.teardown(async () => {
        if (!t.passed)
          t.log(
            'last page',
            page.url(),
            (
              await page
                .locator('body')
                .innerText()
                .catch(() => '')
            ).slice(0, 600),
          );
      });

      // Sign-in: identifier (and its error), password (and its error).
      await page.goto((await rp.authorizationRequest()).url);
      await expectHeading(page, 'Inicia sesión');
      await audit(page, 'login identifier');
      await page.getByLabel('Correo electrónico').fill('no es un correo');
      await page.getByRole('button', { name: 'Siguiente' }).click();
      await page.locator('.error').first().waitFor();
      await audit(page, 'login identifier with an error');
      const ana = await server.users.create({
        email: 'ana@example.com',
        password: PASSWORD,
        name: 'Ana Pérez',
        emailVerified: true,
      });
      await submitEmail(page, ana.email);
      await audit(page, 'password');
      await page.getByLabel('Contraseña', { exact: true }).fill('not the password');
      await page.getByRole('button', { name: 'Iniciar sesión' }).click();
      await page.locator('#password-error').waitFor();
      await audit(page, 'password with an error');

      // Forgot and reset the password.
      await page.getByRole('link', { name: /Olvidaste tu contraseña/ }).click();
      await audit(page, 'forgot password');
      await page.fill('#email', ana.email);
      await page.locator('form button.primary').click();
      await page.waitForURL(/\/sent/);
      await audit(page, 'forgot password sent');
      const [resetMail] = await mailbox.waitFor(ana.email);
      const resetLink = /(\S+\/password\/reset\?token=[\w-]+)/.exec(resetMail!.text)![1]!;
      await page.goto(resetLink);
      await audit(page, 'reset password');
      await page.fill('#password', 'corta');
      await page.locator('form button.primary').click();
      await page.locator('.error').first().waitFor();
      await audit(page, 'reset password with an error');
      await page.fill('#password', NEW_PASSWORD);
      await page.fill('#password_confirmation', NEW_PASSWORD);
      await page.locator('form button.primary').click();
      await expectHeading(page, 'Escribe tu contraseña');
      await audit(page, 'password after a reset');
      await submitPassword(page, NEW_PASSWORD);
      await landOn(page, portal.redirectUri);
      t.is(
        (await server.users.findById(ana.id))!.time_zone,
        'America/Santiago',
        "the sign-in keeps the browser's zone",
      );
      await page.goto(`${server.issuer}/password/changed`);
      await audit(page, 'password changed');
      await page.goto(`${server.issuer}/password/reset?token=not-a-token`);
      await audit(page, 'reset password invalid link');

      // Consent for a third-party portal, with the session the sign-in left.
      await page.goto((await thirdRp.authorizationRequest()).url);
      await page.locator('form button.primary').waitFor();
      await audit(page, 'consent');

      // The account pages (the sign-in above is recent enough for the guarded ones).
      await page.goto(`${server.issuer}/account`);
      await expectHeading(page, 'Tu cuenta');
      await audit(page, 'account profile');
      await page.goto(`${server.issuer}/account/password`);
      await audit(page, 'account password');
      await page.locator('form button.primary').click();
      await page.locator('.error').first().waitFor();
      await audit(page, 'account password with an error');
      await page.goto(`${server.issuer}/account/email`);
      await audit(page, 'account email');
      await page.fill('#email', 'ana.perez@example.com');
      await page.locator('form button.primary').click();
      await page.waitForURL(/\/account\/email\/sent$/);
      await audit(page, 'account email sent');
      const [changeMail] = await mailbox.waitFor('ana.perez@example.com');
      await page.goto(/(\S+\/account\/email\/confirm\?token=[\w-]+)/.exec(changeMail!.text)![1]!);
      await audit(page, 'account email change confirmation');
      await page.locator('form button.primary').click();
      await page.waitForLoadState();
      await audit(page, 'account email changed');
      await page.goto(`${server.issuer}/account/sessions`);
      await audit(page, 'account sessions');
      await page.goto(`${server.issuer}/account/security`);
      await audit(page, 'account security without factors');
      await page.getByRole('button', { name: /aplicación de autenticación/i }).click();
      await page.locator('#setup-key').waitFor();
      await audit(page, 'TOTP enrolment');
      const secret = (await page.locator('#setup-key').innerText()).replace(/\s+/g, '');
      await page.fill('#code', '000000');
      await page.locator('form button.primary').click();
      await page.locator('#code-error').waitFor();
      await audit(page, 'TOTP enrolment with an error');
      await page.fill('#code', await generate({ secret }));
      await page.locator('form button.primary').click();
      await expectHeading(page, 'Tus códigos de recuperación');
      await audit(page, 'recovery codes');
      await page.goto(`${server.issuer}/account/security/sms`);
      await audit(page, 'SMS enrolment');
      await page.fill('#phone', '55 1234 5678');
      await page.locator('form button.primary').click();
      await page.waitForURL(/\/sms\/verify$/);
      await audit(page, 'SMS enrolment code');
      await page.fill('#code', twilio.lastCode(PHONE));
      await page.locator('form button.primary').click();
      await page.waitForURL(/\/account\/security\?saved=added$/);
      await audit(page, 'account security with factors');
      await page.locator('a.remove-factor').first().click();
      await expectHeading(page, '¿Quitar este método?');
      await audit(page, 'factor removal confirmation');
      await page.goto(`${server.issuer}/account/identities`);
      await audit(page, 'account identities');

      // Logout: the confirmation, then the page for a logout no portal asked for.
      await page.goto(`${server.issuer}/session/end`);
      await page.locator('button[name="logout"]').waitFor();
      await audit(page, 'logout confirmation');
      await page.locator('button[name="logout"]').click();
      await expectHeading(page, 'Cerraste sesión');
      await audit(page, 'logged out');

      // Her address since the change on the account page above.
      await walkSecondFactors({ server, portal, context, page, audit }, rp, 'ana.perez@example.com', NEW_PASSWORD);
      await context.clearCookies();

      // Sign-up: the form, its field errors, the code page (with an error), the emailed link.
      await page.goto((await rp.authorizationRequest()).url);
      await page.getByRole('link', { name: 'Crear cuenta' }).click();
      await expectHeading(page, 'Crea tu cuenta');
      await audit(page, 'sign-up');
      await page.fill('#email', 'no es un correo');
      await page.fill('#password', 'corta');
      await page.locator('form button.primary').click();
      await page.locator('#email-error').waitFor();
      await audit(page, 'sign-up with field errors');
      await page.fill('#name', 'Lucía Gómez');
      await page.fill('#email', 'lucia@example.com');
      await page.fill('#phone', '9 6123 4567');
      await page.selectOption('#phone_country', 'CL');
      await page.fill('#password', NEW_PASSWORD);
      await page.fill('#password_confirmation', NEW_PASSWORD);
      await page.check('#terms');
      await page.locator('form button.primary').click();
      await page.locator('#code').waitFor();
      await audit(page, 'check email (verification code)');
      t.is((await server.users.findByEmail('lucia@example.com'))!.time_zone, 'America/Santiago', 'so does the sign-up');
      await page.fill('#code', '000000');
      await page.locator('form button.primary').click();
      await page.locator('#code-error').waitFor();
      await audit(page, 'verification code with an error');
      const [verifyMail] = await mailbox.waitFor('lucia@example.com');
      const verifyLink = new RegExp(`${server.issuer}/\\S+`).exec(verifyMail!.text.replace(/\n(?=\S)/g, ''))?.[0];
      if (!verifyLink) return t.fail(`no verification link in ${verifyMail!.text}`);
      // Opened on another device, our script held back (with it the confirmation submits itself;
      // axe needs JavaScript on): the sign-up's own browser would go straight back into its sign-in.
      const { context: elsewhere, page: mail } = await newContext(t, browser);
      await elsewhere.route('**/assets/enhancements.js', (route) => route.abort());
      await mail.goto(verifyLink);
      await audit(mail, 'verification link confirmation');
      await mail.locator('form button.primary').click();
      await mail.waitForURL(/\/done/);
      await audit(mail, 'verification done');
      await mail.goto(verifyLink);
      await audit(mail, 'verification link used or invalid');
      await context.clearCookies();

      // A portal that requires a second factor: a person without one enrolls during the sign-in.
      const bob = await server.users.create({
        email: 'bob@example.com',
        password: PASSWORD,
        name: 'Bob',
        emailVerified: true,
      });
      await page.goto((await mfaRp.authorizationRequest()).url);
      await submitEmail(page, bob.email);
      await submitPassword(page, PASSWORD);
      await expectHeading(page, 'Protege tu cuenta con un segundo paso');
      await audit(page, 'MFA enrolment at sign-in');
      await context.clearCookies();

      const walk = { server, portal, context, page, audit };
      const { organizationId } = await walkCompanies(walk, { organization: orgRp, company: companyRp, plain: rp });
      await walkFederation(walk, google, rp, bob.email);
      await walkLandings(walk);
      await walkOperatorConsole(walk, {
        outsider: 'eli@example.com',
        unprotected: 'dana@example.com',
        operator: { email: 'ana.perez@example.com', password: NEW_PASSWORD, totpSecret: secret },
        organizationId,
      });

      t.deepEqual(
        violations.map(
          (v) =>
            `${v.state} [${v.scheme} ${v.width}px] ${v.rule} (${v.impact}): ${v.targets.join(', ')} — ${v.summary}`,
        ),
        [],
      );
      t.deepEqual(problems, []);
      t.deepEqual(audited, [...COVERED, ...OPERATOR_CONSOLE_STATES]);

      // The dark pass runs only the colour rules, which holds while a colour scheme changes only
      // colours: a page whose dark scheme also hides something, or sets a length, is flagged
      // (here the length sits in a nested condition).
      const check = new AxeAudit();
      await page.goto('about:blank');
      await page.setContent(
        '<!doctype html><html lang="es"><title>Prueba</title><style>@media (prefers-color-scheme: dark) ' +
          '{ :root { --bg: #000 } main { display: none } } @supports (display: grid) { @media ' +
          '(prefers-color-scheme: dark) { h1 { --gap: 2rem } } }</style><main><h1>Prueba</h1></main></html>',
      );
      await check.audit(page, 'a dark scheme that hides the page');
      t.deepEqual(check.problems, [
        'a dark scheme that hides the page: the colour scheme sets "display: none", not a colour: audit every rule in dark too',
        'a dark scheme that hides the page: the colour scheme sets "--gap: 2rem", not a colour: audit every rule in dark too',
      ]);
    },
  );
}
