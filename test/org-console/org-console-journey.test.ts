import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { expectHeading, landOn, launchChromium, newContext, STACK_TRACE } from '../browser/browser-support.ts';
import { startFederatedUmbral } from '../federation/federation-world.ts';
import { codeOf } from '../interactions/signup-fixture.ts';
import { startSmtpServer, waitForMail } from '../notify/smtp-test-server.ts';
import { startInitiatingPortal } from '../organizations/initiating-portal.ts';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { BROWSER_STORES, createTestStore } from '../support/stores.ts';
import { invitationLink, PASSWORD } from './console-world.ts';

// Issue 11's "must show", in headless Chromium without JavaScript: the designated admin of
// "Acme S.A." opens /org and invites three collaborators by pasting their addresses; two accept
// (one with Google, one by hand) and appear with their role and last sign-in; the admin excludes
// one, whose portal session ends with a back-channel logout; /org/metrics shows the day's
// sign-ins and the second-factor share. The HTTP tests (org-console.test.ts) cover the rest.
let browser: Browser | undefined;
test.before(async () => {
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
});

const PHONE = { width: 375, height: 740 };
const AXE = fs.readFileSync(path.join(PROJECT_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** The page fits a phone's width: nothing but the tables' own scrolling regions goes sideways. */
async function fitsPhone(t: ExecutionContext, page: Page): Promise<void> {
  const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
  t.true(width <= PHONE.width, `${page.url()}: no sideways scrolling (scrollWidth ${width})`);
}

/** The member list's row of `email`, as read on the page. */
async function memberRow(page: Page, email: string): Promise<string> {
  return (await page.locator(`tr[data-member="${email}"]`).innerText()).replace(/\s+/g, ' ');
}

for (const kind of BROWSER_STORES) {
  test.serial(`[${kind}] Chromium: the admin of Acme S.A. invites three, two join, one is excluded`, async (t) => {
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
    const { google, server } = await startFederatedUmbral(
      store,
      { SMTP_URL: smtp.url, ALLOW_PRIVATE_NETWORK_FETCH: 'true' },
      stops,
    );
    const client = await server.registerClient({
      clientId: 'portal',
      name: 'Portal de Clientes',
      redirectUris: [portal.redirectUri],
      initiateLoginUri: portal.initiateLoginUri,
      backchannelLogoutUri: backchannel.uri,
      organization: 'required',
    });
    await portal.connect(server.issuer, 'portal', client.client_secret);
    const db = server.umbral.storage.db;
    const acme = await new OrganizationRepository(db).create({
      name: 'Acme S.A.',
      slug: 'acme-s-a',
      activatesAt: new Date(Date.now() - 3600_000),
      homeClientId: 'portal',
    });
    const ana = await server.users.create({
      email: 'ana@acme.example',
      password: PASSWORD,
      name: 'Ana Pérez',
      emailVerified: true,
    });
    await new MembershipRepository(db).join({
      organizationId: acme.row.id,
      userId: ana.id,
      roles: ['admin'],
      invitedBy: 'operator',
    });

    // Ana opens /org: the hosted login, then the console, all without JavaScript.
    const admin = (await newContext(t, browser!, { javaScriptEnabled: false, viewport: PHONE, isMobile: true })).page;
    await admin.goto(`${server.issuer}/org`);
    await admin.getByLabel('Correo electrónico').fill('ana@acme.example');
    await admin.getByRole('button', { name: 'Siguiente' }).click();
    await admin.getByLabel('Contraseña', { exact: true }).fill(PASSWORD);
    await admin.getByRole('button', { name: 'Iniciar sesión' }).click();
    await expectHeading(admin, 'Colaboradores');
    t.is(new URL(admin.url()).pathname, '/org');
    await fitsPhone(t, admin);

    // Three addresses pasted.
    await admin.getByRole('link', { name: 'Invitaciones', exact: true }).click();
    await expectHeading(admin, 'Invitaciones');
    await admin.getByLabel('Correos electrónicos').fill('beto@acme.example\ncarla@acme.example, dora@acme.example');
    await admin.getByRole('button', { name: 'Enviar invitaciones' }).click();
    await expectHeading(admin, 'Resultado de las invitaciones');
    await fitsPhone(t, admin);
    t.is(await admin.locator('[data-count="invited"]').innerText(), '3 invitadas');
    t.is(await admin.locator('[data-count="refused"]').innerText(), '0 rechazadas');

    // Beto joins with Google.
    const [betoMail] = await waitForMail(smtp, 'beto@acme.example');
    const betoGoogle = google.addAccount({ email: 'beto@acme.example', name: 'Beto Ruiz' });
    const beto = (await newContext(t, browser!, { ignoreHTTPSErrors: true })).page;
    await beto.goto(invitationLink(betoMail!, server.issuer));
    await expectHeading(beto, 'Únete a Acme S.A.');
    await beto.getByRole('button', { name: 'Continuar con Google' }).click();
    await beto.waitForURL((url) => url.href.startsWith(google.issuer));
    await beto.getByLabel('Account').fill(betoGoogle.login);
    await beto.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(beto, 'Crea tu cuenta');
    await beto.getByRole('checkbox').check();
    await beto.getByRole('button', { name: 'Crear cuenta' }).click();
    await landOn(beto, portal.redirectUri);
    await expectHeading(beto, 'Sesión iniciada: beto@acme.example');

    // Carla joins by hand: her account, the emailed code, the portal.
    const [carlaMail] = await waitForMail(smtp, 'carla@acme.example');
    const carla = (await newContext(t, browser!, { ignoreHTTPSErrors: true })).page;
    await carla.goto(invitationLink(carlaMail!, server.issuer));
    await carla.getByRole('button', { name: 'Crear cuenta' }).click();
    await expectHeading(carla, 'Crea tu cuenta');
    await carla.getByLabel('Nombre y apellido').fill('Carla Gómez');
    await carla.getByLabel('Número').fill('55 1234 5678');
    await carla.getByLabel('Contraseña', { exact: true }).fill(PASSWORD);
    await carla.getByLabel('Repite la contraseña').fill(PASSWORD);
    await carla.getByRole('checkbox', { name: /^Acepto los Términos del servicio/ }).check();
    await carla.getByRole('button', { name: 'Crear cuenta' }).click();
    await expectHeading(carla, 'Revisa tu correo');
    const [, carlaCode] = await waitForMail(smtp, 'carla@acme.example', 2);
    await carla.getByLabel('Código de verificación').fill(codeOf(carlaCode!));
    await carla.getByRole('button', { name: 'Verificar' }).click();
    await landOn(carla, portal.redirectUri);
    await expectHeading(carla, 'Sesión iniciada: carla@acme.example');

    const carlaSids = portal.signIns.filter((s) => s.email === 'carla@acme.example').map((s) => s.claims['sid']);

    // Both appear with their role and last sign-in (and how they signed in); Dora is still invited.
    await server.umbral.insights.signInEvents.flush();
    await admin.getByRole('link', { name: 'Colaboradores', exact: true }).click();
    await expectHeading(admin, 'Colaboradores');
    t.regex(
      await memberRow(admin, 'beto@acme.example'),
      /Beto Ruiz beto@acme\.example Miembro Activo .+ UTC Desactivada Google/,
    );
    t.regex(
      await memberRow(admin, 'carla@acme.example'),
      /Carla Gómez carla@acme\.example Miembro Activo .+ UTC Desactivada Contraseña/,
    );
    t.is(await admin.locator('tr[data-member]').count(), 3);
    await fitsPhone(t, admin);

    // Ana excludes Carla: Carla's portal hears that her session there ended.
    await admin.getByRole('link', { name: 'Carla Gómez' }).click();
    await expectHeading(admin, 'Carla Gómez');
    await admin.getByLabel('Sí, excluir a esta persona de Acme S.A.').check();
    await admin.getByRole('button', { name: 'Excluir', exact: true }).click();
    await admin.getByText('Excluiste a esta persona').waitFor();
    const logouts = await backchannel.waitFor(carlaSids.length);
    t.deepEqual(logouts.map((token) => decodeJwt(token)['sid']).sort(), [...carlaSids].sort(), 'her session there');
    await admin.getByRole('link', { name: 'Volver a los colaboradores' }).click();
    t.regex(await memberRow(admin, 'carla@acme.example'), /Excluido/);

    // Ana turns on a second factor: one of the two current members has one.
    await db
      .insertInto('mfa_factors')
      .values({ id: 'ana-sms', user_id: ana.id, kind: 'sms', phone: '+5215512345678', confirmed_at: new Date() })
      .execute();
    await admin.getByRole('link', { name: 'Métricas' }).click();
    await expectHeading(admin, 'Métricas de uso');
    t.is(
      await admin.locator('[data-metric="sign-ins-total"]').innerText(),
      '2 inicios de sesión en los últimos 30 días',
    );
    const today = new Date().toISOString().slice(0, 10);
    t.is((await admin.locator(`tr[data-day="${today}"] td`).textContent())?.trim(), '2');
    t.regex(await admin.locator('[data-metric="second-factor"]').innerText(), /^50\s?% · 1 de 2$/);
    t.true(await admin.getByRole('img', { name: 'Inicios de sesión por día, últimos 30 días' }).isVisible());
    await fitsPhone(t, admin);
    t.notRegex(await admin.content(), STACK_TRACE);

    // The console's pages, as Ana sees them, pass axe-core's checks (axe needs scripts: a context
    // of its own with her cookies).
    const audited = await browser!.newContext({ storageState: await admin.context().storageState() });
    t.teardown(() => audited.close());
    const auditor = await audited.newPage();
    for (const path of ['/org', '/org/invitations', '/org/metrics', '/org/company']) {
      await auditor.goto(`${server.issuer}${path}`);
      await auditor.evaluate(AXE);
      const violations = (await auditor.evaluate(
        'axe.run(document).then((r) => r.violations.map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))',
      )) as string[];
      t.deepEqual(violations, [], path);
    }
  });
}
