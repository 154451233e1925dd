import test from 'ava';
import type { Browser } from 'playwright-core';
import { codeOf } from '../interactions/signup-fixture.ts';
import { invitationWorlds, PASSWORD } from '../organizations/invitation-world.ts';
import { BROWSER_STORES } from '../support/stores.ts';
import { expectHeading, landOn, launchChromium, newContext, STACK_TRACE } from './browser-support.ts';

// Headless Chromium from the invitation email's link to the home portal (openid-client behind
// HTTPS, entered through its initiate_login_uri). The HTTP tests in test/organizations cover the
// other ways in and the refusals on both stores; this is the journey a new company admin makes.
let browser: Browser | undefined;
test.before(async () => {
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
});

const invitationWorld = invitationWorlds(test);

for (const kind of BROWSER_STORES) {
  test.serial(
    `[${kind}] Chromium: an invited admin signs up from the link, verifies by email and lands signed in at the home portal`,
    async (t) => {
      const w = await invitationWorld(kind);
      const company = await w.company({ name: 'Acme S.A.' });
      const invitation = await w.invite(company, 'ana@acme.example', { roles: ['admin'] });
      // The portal's certificate is made for the test; Chromium is told to accept it.
      const { page } = await newContext(t, browser!, { ignoreHTTPSErrors: true });
      const requested: string[] = [];
      page.on('request', (request) => requested.push(request.url()));

      await page.goto(invitation.link);
      await expectHeading(page, 'Únete a Acme S.A.');
      t.is(page.url(), `${w.server.issuer}/invitations`, 'the token left the address bar');
      t.true(await page.getByText('Invitación para').isVisible());
      t.true(await page.getByRole('button', { name: 'Continuar con Google' }).isVisible());
      t.true(await page.getByRole('button', { name: 'Continuar con Microsoft' }).isVisible());

      await page.getByRole('button', { name: 'Crear cuenta' }).click();
      await expectHeading(page, 'Crea tu cuenta');
      const email = page.getByLabel('Correo electrónico');
      t.is(await email.inputValue(), 'ana@acme.example');
      t.is(await email.getAttribute('readonly'), '');
      await page.getByLabel('Nombre y apellido').fill('Ana Pérez');
      await page.getByLabel('Número').fill('55 1234 5678');
      await page.getByLabel('Contraseña', { exact: true }).fill(PASSWORD);
      await page.getByLabel('Repite la contraseña').fill(PASSWORD);
      await page.getByRole('checkbox', { name: /^Acepto los Términos del servicio y el Aviso de privacidad/ }).check();
      await page.getByRole('button', { name: 'Crear cuenta' }).click();
      await expectHeading(page, 'Revisa tu correo');

      const [mail] = await w.mailTo('ana@acme.example');
      await page.getByLabel('Código de verificación').fill(codeOf(mail!));
      await page.getByRole('button', { name: 'Verificar' }).click();
      await landOn(page, w.portal.redirectUri);
      await expectHeading(page, 'Sesión iniciada: ana@acme.example');
      t.notRegex(await page.content(), STACK_TRACE);

      const user = (await w.server.users.findByEmail('ana@acme.example'))!;
      t.true(user.email_verified);
      t.deepEqual((await w.memberships.membership(company.row.id, user.id))?.roles, ['admin']);
      t.is(w.portal.signIns.length, 1);
      t.is(w.portal.signIns[0]!.sub, user.id);
      t.true(
        requested.some((url) => url.startsWith(`${w.portal.initiateLoginUri}?iss=`)),
        'through the portal initiate-login endpoint',
      );
      t.deepEqual(
        requested.filter((url) => url.includes(invitation.token)),
        [invitation.link],
        'no URL but the first carried the token',
      );
    },
  );
}
