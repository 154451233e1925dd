import test from 'ava';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { ownStderr, runUmbral } from '../cli/umbral-cli.ts';
import { codeOf } from '../interactions/signup-fixture.ts';
import { startSmtpServer, waitForMail } from '../notify/smtp-test-server.ts';
import { startInitiatingPortal } from '../organizations/initiating-portal.ts';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { BROWSER_STORES, createTestStore } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';
import { expectHeading, landOn, launchChromium, newContext, STACK_TRACE } from './browser-support.ts';

// Issue 10's "must show", as an operator and a company admin live it: the operator registers the
// company's portal and adds "Acme S.A." one minute ahead with Ana as its admin; at that minute
// (the server's clock is moved, never slept on) Ana gets the welcome email, signs up by hand from
// its link, verifies her email and lands in the portal, whose ID token names the company and her
// admin role. On the contract's end date her portal session ends with a back-channel logout.
const PASSWORD = 'luna llena sobre el volcán';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

let browser: Browser | undefined;
test.before(async () => {
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
});

for (const kind of BROWSER_STORES) {
  test.serial(
    `[${kind}] a company one minute ahead: welcome, sign-up from the link, the portal's token, the end`,
    async (t) => {
      const stops: Array<() => Promise<void>> = [];
      t.teardown(async () => {
        for (const stop of stops.reverse()) await stop();
      });
      const smtp = await startSmtpServer();
      stops.push(() => smtp.close());
      const portal = await startInitiatingPortal({ scope: 'openid email profile organization' });
      stops.push(() => portal.close());
      const backchannel = await startBackchannelReceiver();
      stops.push(() => backchannel.close());
      const store = await createTestStore(kind);
      stops.push(() => store.cleanup());
      const clock = { offset: 0 };
      // The portal's back-channel endpoint is on loopback, which the server reaches only when allowed.
      const server = await startUmbral(
        store,
        { SMTP_URL: smtp.url, ALLOW_PRIVATE_NETWORK_FETCH: 'true' },
        { now: () => Date.now() + clock.offset },
      );
      stops.push(() => server.stop());
      const env = { ...store.env, ISSUER: server.issuer, ALLOW_PRIVATE_NETWORK_FETCH: 'true' };
      const umbral = async (args: string[]) => {
        const result = await runUmbral(args, { env });
        t.is(result.code, 0, ownStderr(result));
        return JSON.parse(result.stdout) as Record<string, unknown>;
      };

      // The operator: the portal, then the company.
      const client = await umbral([
        'clients',
        'add',
        '--client-id',
        'portal',
        '--name',
        'Portal de Clientes',
        '--redirect-uri',
        portal.redirectUri,
        '--initiate-login-uri',
        portal.initiateLoginUri,
        '--backchannel-logout-uri',
        backchannel.uri,
        '--organization',
        'required',
        '--first-party',
      ]);
      await portal.connect(server.issuer, 'portal', String(client['client_secret']));
      const activatesAt = new Date(Date.now() + MINUTE);
      const endsAt = new Date(Date.now() + 30 * DAY);
      const company = await umbral([
        'orgs',
        'add',
        '--name',
        'Acme S.A.',
        '--admin',
        'ana@acme.example',
        '--activates-at',
        activatesAt.toISOString(),
        '--ends-at',
        endsAt.toISOString(),
        '--home-client',
        'portal',
      ]);
      t.like(company, { slug: 'acme-s-a', status: 'scheduled' });

      // Before its minute nothing is sent; at it, the welcome.
      t.like(await server.umbral.contracts.runOnce(), { activated: 0 });
      await server.umbral.mailer.drain();
      t.deepEqual(smtp.received, [], 'nothing before the contract starts');
      clock.offset = MINUTE + 1000;
      t.like(await server.umbral.contracts.runOnce(), { activated: 1 });
      const [welcome] = await waitForMail(smtp, 'ana@acme.example');
      t.regex(welcome!.subject ?? '', /Acme S\.A\..*Portal de Clientes/);
      const link = new RegExp(`${server.issuer}/invitations/[A-Za-z0-9_-]{43}`).exec(welcome!.text ?? '')?.[0];
      t.truthy(link, 'the link is on the issuer');

      // Ana, in a browser: the link, "Crear cuenta" by hand, the code, the portal.
      const { page } = await newContext(t, browser!, { ignoreHTTPSErrors: true });
      await page.goto(link!);
      await expectHeading(page, 'Únete a Acme S.A.');
      await page.getByRole('button', { name: 'Crear cuenta' }).click();
      await expectHeading(page, 'Crea tu cuenta');
      t.is(await page.getByLabel('Correo electrónico').inputValue(), 'ana@acme.example');
      await page.getByLabel('Nombre y apellido').fill('Ana Pérez');
      await page.getByLabel('Número').fill('55 1234 5678');
      await page.getByLabel('Contraseña', { exact: true }).fill(PASSWORD);
      await page.getByLabel('Repite la contraseña').fill(PASSWORD);
      await page.getByRole('checkbox', { name: /^Acepto los Términos del servicio/ }).check();
      await page.getByRole('button', { name: 'Crear cuenta' }).click();
      await expectHeading(page, 'Revisa tu correo');
      const [, verification] = await waitForMail(smtp, 'ana@acme.example', 2);
      await page.getByLabel('Código de verificación').fill(codeOf(verification!));
      await page.getByRole('button', { name: 'Verificar' }).click();
      await landOn(page, portal.redirectUri);
      await expectHeading(page, 'Sesión iniciada: ana@acme.example');
      t.notRegex(await page.content(), STACK_TRACE);

      // The portal's ID token names the company and her role in it.
      t.is(portal.signIns.length, 1);
      const { claims } = portal.signIns[0]!;
      t.is(claims['org_name'], 'Acme S.A.');
      t.is(claims['org_slug'], 'acme-s-a');
      t.true((claims['org_roles'] as string[]).includes('admin'));
      t.true(Array.isArray(claims['org_permissions']));

      // The contract's end: the portal hears that her session there ended.
      clock.offset = endsAt.getTime() - Date.now() + 1000;
      t.like(await server.umbral.contracts.runOnce(), { ended: 1 });
      const [logout] = await backchannel.waitFor(1);
      t.is(decodeJwt(logout!)['sid'], claims['sid'], 'her session at the portal');
      // And the portal cannot sign her in for Acme again.
      await page.goto(portal.initiateLoginUri.replace('/login', `/login?iss=${encodeURIComponent(server.issuer)}`));
      await expectHeading(page, 'El acceso de Acme S.A. no está activo');
    },
  );
}
