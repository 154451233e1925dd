import test from 'ava';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { OperatorDirectory } from '../../src/admin-console/operators.ts';
import { AxeAudit } from '../browser/axe-audit.ts';
import {
  expectHeading,
  landOn,
  launchChromium,
  newContext,
  PASSWORD,
  type Portal,
  startPortal,
  submitEmail,
  submitPassword,
} from '../browser/browser-support.ts';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { BROWSER_STORES, createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

// The operator console in real Chromium, where a passkey needs its virtual authenticator. One
// Chromium and one Umbral per store for the file; the portal's back-channel logout goes to a
// receiver on loopback, so private network fetches are allowed.
let browser: Browser | undefined;
type Receiver = Awaited<ReturnType<typeof startBackchannelReceiver>>;
const worlds = new Map<StoreKind, { server: RunningUmbral; portal: Portal; receiver: Receiver }>();
const stops: Array<() => Promise<void>> = [];

test.before(async () => {
  browser = await launchChromium();
  stops.push(() => browser!.close());
  for (const kind of BROWSER_STORES) {
    const store = await createTestStore(kind);
    stops.push(() => store.cleanup());
    const receiver = await startBackchannelReceiver();
    stops.push(() => receiver.close());
    const portal = await startPortal();
    stops.push(() => portal.close());
    const server = await startUmbral(store, { ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
    stops.push(() => server.stop());
    worlds.set(kind, { server, portal, receiver });
  }
});

test.after.always(async () => {
  for (const stop of stops.reverse()) await stop();
});

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

for (const kind of BROWSER_STORES) {
  test.serial(
    `[${kind}] an operator enrols a passkey when asked, signs in with it, and disables a user, whose portal session ends`,
    async (t) => {
      const { server, portal, receiver } = worlds.get(kind)!;
      const client = await server.registerClient({
        clientId: 'crm',
        name: 'CRM',
        redirectUris: [portal.redirectUri],
        backchannelLogoutUri: receiver.uri,
      });
      const createUser = (email: string) =>
        server.users.create({ email, password: PASSWORD, name: 'Ana Pérez', emailVerified: true });
      const operator = await createUser('olga@example.com');
      await new OperatorDirectory(server.umbral.storage.db).add(operator.email, 'test');
      const bea = await createUser('bea@example.com');

      // Bea is signed in at the CRM portal.
      const crm = await RelyingParty.discover(
        server.issuer,
        client.client_id,
        client.client_secret,
        portal.redirectUri,
      );
      const portalBrowser = new HttpBrowser({ 'accept-language': 'es-MX' });
      const { callback } = await crm.signIn(portalBrowser, bea.email, PASSWORD);
      t.true(callback.url.startsWith(portal.redirectUri));

      // Someone who is not an operator is refused, in their language.
      const { page: beaPage } = await newContext(t, browser!);
      await beaPage.goto(`${server.issuer}/admin`);
      await submitEmail(beaPage, bea.email);
      await submitPassword(beaPage, PASSWORD);
      await expectHeading(beaPage, 'No tienes acceso a la consola');
      await beaPage.getByRole('link', { name: 'Volver a tu cuenta' }).click();
      await expectHeading(beaPage, 'Tu cuenta');

      // The operator signs in with the password: the console asks for a passkey or an app first.
      const { context, page } = await newContext(t, browser!, { bypassCSP: true });
      await addVirtualAuthenticator(context, page);
      await page.goto(`${server.issuer}/admin`);
      await submitEmail(page, operator.email);
      await submitPassword(page, PASSWORD);
      await expectHeading(page, 'Se necesita una verificación más segura');
      await page.getByRole('link', { name: 'Agregar una llave de acceso o una app' }).click();
      await expectHeading(page, 'Verificación en dos pasos');
      await page.getByLabel('Nombre de la llave de acceso').fill('Portátil');
      await page.getByRole('button', { name: 'Crear una llave de acceso' }).click();
      await expectHeading(page, 'Tus códigos de recuperación');

      // The passkey just enrolled counts as this session's second factor: the console opens.
      await page.goto(`${server.issuer}/admin`);
      await expectHeading(page, 'Consola de operación');

      // Signed out, the operator signs in to the console with the passkey alone (the browser offers it in the email field).
      await context.clearCookies();
      await page.goto(`${server.issuer}/admin`);
      await landOn(page, `${server.issuer}/admin`);
      await expectHeading(page, 'Consola de operación');
      await server.umbral.audit.flush();
      const signIns = await server.umbral.storage.db
        .selectFrom('audit_events')
        .select('data')
        .where('type', '=', 'sign_in.succeeded')
        .where('subject_user_id', '=', operator.id)
        .orderBy('occurred_at', 'desc')
        .execute();
      const amr = (signIns[0]!.data as { amr: string[] }).amr;
      t.true(amr.includes('hwk') || amr.includes('swk'), `a passkey sign-in: ${amr.join(' ')}`);
      t.false(amr.includes('pwd'), 'without the password');

      // Find Bea and disable her account.
      await page
        .getByRole('navigation', { name: 'Consola de operación' })
        .getByRole('link', { name: 'Usuarios' })
        .click();
      await page.getByLabel('Buscar por correo o nombre').fill('bea@');
      await page.getByRole('button', { name: 'Buscar' }).click();
      await page.getByRole('link', { name: bea.email }).click();
      await expectHeading(page, bea.email);
      const axe = new AxeAudit();
      await axe.audit(page, 'a user');
      await page.getByRole('button', { name: 'Desactivar la cuenta' }).click();
      await expectHeading(page, bea.email);
      t.true(await page.locator('#disable-confirm[aria-invalid="true"]').isVisible(), 'the email was not typed');
      await axe.audit(page, 'a user, the confirmation refused');
      t.deepEqual(axe.violations, [], 'WCAG 2.2 AA as axe-core checks it, light and dark, phone and desktop');
      t.deepEqual(axe.problems, [], 'one h1, and each invalid field tied to its error');
      t.false((await server.users.findById(bea.id))!.disabled);

      await page.getByLabel('Para confirmar, escribe su correo electrónico').fill(bea.email);
      await page.getByRole('button', { name: 'Desactivar la cuenta' }).click();
      await page.getByText('Desactivamos la cuenta y cerramos todas sus sesiones.').waitFor();
      t.true((await server.users.findById(bea.id))!.disabled);
      await receiver.waitFor(1);
      t.is(receiver.tokens.length, 1, 'the CRM heard the back-channel logout of her session');
      const claims = JSON.parse(Buffer.from(receiver.tokens[0]!.split('.')[1]!, 'base64url').toString('utf8')) as {
        sub: string;
        aud: string;
      };
      t.is(claims.sub, bea.id);
      t.is(claims.aud, client.client_id);

      await server.umbral.audit.flush();
      const disabled = await server.umbral.storage.db
        .selectFrom('audit_events')
        .selectAll()
        .where('type', '=', 'user.disabled')
        .executeTakeFirstOrThrow();
      t.like(disabled, { actor_kind: 'operator', actor_id: operator.id, subject_user_id: bea.id });
    },
  );
}
