import test from 'ava';
import type { Page } from 'playwright-core';
import { verifyPassword } from '../../src/users/password-hasher.ts';
import { startSmtpServer, type TestSmtpServer } from '../notify/smtp-test-server.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { BROWSER_STORES, createTestStore } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';
import { launchChromium, newContext, startPortal } from './browser-support.ts';

const EMAIL = 'lucia.gomez@example.com';
const FIRST = 'girasoles en la ventana';
const RESET = 'tormenta de verano lejana';
const CHANGED = 'cielo despejado en enero';

/** Where a person reads their mail: the dev outbox pages (npm start alone) or a real SMTP server. */
type Mailbox = (page: Page, template: string) => Promise<string>;

/** Reads the newest message of `template` to EMAIL through /dev/outbox, as a person trying Umbral would. */
function devOutbox(issuer: string): Mailbox {
  return async (page, template) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      await page.goto(`${issuer}/dev/outbox`);
      const item = page
        .locator('.outbox-list li', { hasText: `Plantilla: ${template}` })
        .filter({ hasText: EMAIL })
        .filter({ hasText: 'enviado' });
      if ((await item.count()) > 0) {
        await item.first().locator('a').click();
        return page.locator('.outbox-text').innerText();
      }
      if (Date.now() > deadline) throw new Error(`no ${template} mail in the dev outbox`);
      await page.waitForTimeout(200);
    }
  };
}

function smtpMailbox(smtp: TestSmtpServer): Mailbox {
  return async (_page, template) => {
    const subjects: Record<string, RegExp> = {
      'verify-email': /Confirma tu correo/,
      'reset-password': /Restablece tu contraseña/,
    };
    const deadline = Date.now() + 15_000;
    for (;;) {
      const mail = smtp.received.filter((m) => subjects[template]!.test(m.subject ?? '')).at(-1);
      if (mail) return mail.text ?? '';
      if (Date.now() > deadline) throw new Error(`no ${template} mail over SMTP`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
}

for (const kind of BROWSER_STORES) {
  for (const delivery of ['dev outbox', 'SMTP'] as const) {
    test.serial(
      `[${kind}] [${delivery}] sign up, verify, sign in, forget, reset, and change the password from /account`,
      async (t) => {
        const smtp = delivery === 'SMTP' ? await startSmtpServer() : undefined;
        const store = await createTestStore(kind);
        const server = await startUmbral(store, smtp ? { SMTP_URL: smtp.url } : {});
        const portal = await startPortal();
        const browser = await launchChromium();
        t.teardown(async () => {
          await browser.close();
          await portal.close();
          await server.stop();
          await smtp?.close();
          await store.cleanup();
        });
        const client = await server.registerClient({
          clientId: 'portal',
          name: 'Portal de Clientes',
          redirectUris: [portal.redirectUri],
        });
        const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, portal.redirectUri);
        const { context, page } = await newContext(t, browser, { javaScriptEnabled: false });
        const mail = await context.newPage();
        const readMail = smtp ? smtpMailbox(smtp) : devOutbox(server.issuer);

        // Sign up from the portal's sign-in.
        const signUpRequest = await rp.authorizationRequest();
        await page.goto(signUpRequest.url);
        await page.getByRole('link', { name: 'Crear cuenta' }).click();
        await page.fill('#name', 'Lucía Gómez');
        await page.fill('#email', EMAIL);
        await page.fill('#phone', '55 1234 5678');
        await page.fill('#password', FIRST);
        await page.fill('#password_confirmation', FIRST);
        await page.check('#terms');
        await page.getByRole('button', { name: 'Crear cuenta' }).click();
        t.regex(await page.locator('h1').innerText(), /Revisa tu correo/i);

        // The code from the mail, typed in the same browser, finishes the sign-in at the portal.
        const code = /\b(\d{6})\b/.exec(await readMail(mail, 'verify-email'))?.[1];
        if (!code) return t.fail('no 6-digit code in the verification mail');
        await page.fill('#code', code);
        await Promise.all([
          page.waitForURL(`${portal.redirectUri}**`),
          page.getByRole('button', { name: /Verificar|Confirmar/ }).click(),
        ]);
        const tokens = await rp.exchange(page.url(), signUpRequest);
        const user = await server.users.findByEmail(EMAIL);
        t.is(tokens.claims()!.sub, user!.id);
        t.true(user!.email_verified);

        // Forgot password, from the password step of a fresh sign-in.
        const again = await rp.authorizationRequest({ prompt: 'login' });
        await page.goto(again.url);
        await page.fill('#email', EMAIL);
        await page.getByRole('button', { name: 'Siguiente' }).click();
        await page.getByRole('link', { name: /Olvidaste tu contraseña/ }).click();
        await page.fill('#email', EMAIL);
        await page.getByRole('button', { name: /Enviar/ }).click();
        const resetUrl = new RegExp(`${server.issuer}/password/reset\\?token=[\\w-]+`).exec(
          await readMail(mail, 'reset-password'),
        )?.[0];
        if (!resetUrl) return t.fail('no reset link in the mail');
        await page.goto(resetUrl);
        await page.fill('#password', RESET);
        await page.fill('#password_confirmation', RESET);
        await page.getByRole('button', { name: /contraseña/i }).click();
        t.regex(await page.locator('main').innerText(), /contraseña/i);
        t.true(await verifyPassword((await server.users.findById(user!.id))!.password_hash, RESET));

        // Sign in with the new password.
        const signIn = await rp.authorizationRequest();
        await page.goto(signIn.url);
        if (await page.locator('#email').count()) {
          await page.fill('#email', EMAIL);
          await page.getByRole('button', { name: 'Siguiente' }).click();
        }
        await page.fill('#password', RESET);
        await Promise.all([
          page.waitForURL(`${portal.redirectUri}**`),
          page.getByRole('button', { name: 'Iniciar sesión' }).click(),
        ]);
        t.is((await rp.exchange(page.url(), signIn)).claims()!.sub, user!.id);

        // Change it from the account page, signed in already.
        await page.goto(`${server.issuer}/account`);
        t.regex(await page.locator('h1').innerText(), /Tu cuenta/);
        await page.getByRole('link', { name: 'Cambiar contraseña' }).click();
        await page.fill('#current_password', RESET);
        await page.fill('#password', CHANGED);
        await page.fill('#password_confirmation', CHANGED);
        await page.getByRole('button', { name: 'Cambiar contraseña' }).click();
        t.regex(await page.locator('.notice').innerText(), /Cambiaste tu contraseña/);
        t.true(await verifyPassword((await server.users.findById(user!.id))!.password_hash, CHANGED));
      },
    );
  }
}
