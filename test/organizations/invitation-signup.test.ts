import test from 'ava';
import { codeOf, linkOf, signUpFields } from '../interactions/signup-fixture.ts';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { invitationWorlds, PASSWORD, PLAIN_PORTAL, textOf, urlsSeen } from './invitation-world.ts';

const invitationWorld = invitationWorlds(test);

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] manual sign-up from the link: the email is fixed, verified by code, the member lands signed in at the home portal`,
    async (t) => {
      const w = await invitationWorld(kind);
      const company = await w.company({ name: 'Acme S.A.' });
      const invitation = await w.invite(company, 'ana@acme.example', { roles: ['admin'] });
      const browser = w.browser();

      const page = await browser.open(invitation.link);
      t.is(page.status, 200);
      t.is(page.url, `${w.server.issuer}/invitations`, 'the token left the URL at once');
      t.regex(textOf(page), /Únete a Acme S\.A\./);

      const signUp = await browser.submit(page, '/invitations/start', { method: 'signup' });
      t.is(signUp.status, 200);
      t.regex(signUp.url, /\/interaction\/[^/]+\/signup$/);
      t.regex(signUp.body, /value="ana@acme\.example" readonly/, 'the invited address, read-only');
      t.regex(textOf(signUp), /Es la dirección a la que llegó tu invitación/);

      // Another address posted anyway is ignored: the account is the invited one.
      const verify = await browser.submit(signUp, '/signup', signUpFields({ email: 'intrusa@example.com' }));
      t.regex(textOf(verify), /Revisa tu correo/);
      t.is(await w.server.users.findByEmail('intrusa@example.com'), undefined);
      const user = (await w.server.users.findByEmail('ana@acme.example'))!;
      t.false(user.email_verified);
      t.is(await w.memberships.membership(company.row.id, user.id), undefined, 'nobody joins before verifying');

      const [mail] = await w.mailTo('ana@acme.example');
      const landed = await browser.submit(verify, '/verify', { code: codeOf(mail!) });
      t.is(landed.status, 200);
      t.true(landed.url.startsWith(w.portal.redirectUri), `landed at the portal's callback: ${landed.url}`);
      t.regex(textOf(landed), /Sesión iniciada: ana@acme\.example/);
      t.is(w.portal.signIns.length, 1);
      t.is(w.portal.signIns[0]!.sub, user.id);

      const membership = await w.memberships.membership(company.row.id, user.id);
      t.deepEqual(membership?.roles, ['admin']);
      t.true((await w.server.users.findById(user.id))!.email_verified);

      // Through the portal's own initiate-login endpoint, with iss and login_hint (OIDC Core §4).
      const initiate = urlsSeen(browser).find((url) => url.startsWith(w.portal.initiateLoginUri))!;
      const params = new URL(initiate).searchParams;
      t.is(params.get('iss'), w.server.issuer);
      t.is(params.get('login_hint'), 'ana@acme.example');
      const urls = urlsSeen(browser);
      t.is(urls.filter((url) => url.includes(invitation.token)).length, 1, 'only the first request had the token');
      t.true(urls[0]!.includes(invitation.token));
    },
  );

  test.serial(`[${kind}] the verification link, opened in the same browser, also ends in the portal`, async (t) => {
    const w = await invitationWorld(kind);
    const company = await w.company();
    const invitation = await w.invite(company, 'bruno@acme.example', { roles: ['member'] });
    const browser = w.browser();
    const page = await browser.open(invitation.link);
    const signUp = await browser.submit(page, '/invitations/start', { method: 'signup' });
    await browser.submit(signUp, '/signup', signUpFields({ email: 'bruno@acme.example', name: 'Bruno Díaz' }));
    const [mail] = await w.mailTo('bruno@acme.example');
    const confirm = await browser.open(linkOf(mail!));
    t.regex(textOf(confirm), /Confirmar mi correo/);
    const landed = await browser.submit(confirm, '/verify-email', {});
    t.true(landed.url.startsWith(w.portal.redirectUri), landed.url);
    const user = (await w.server.users.findByEmail('bruno@acme.example'))!;
    t.deepEqual((await w.memberships.membership(company.row.id, user.id))?.roles, ['member']);
  });

  test.serial(
    `[${kind}] an existing account signs in instead of signing up, and joins with the invitation's roles`,
    async (t) => {
      const w = await invitationWorld(kind);
      await w.server.umbral.storage.db
        .insertInto('roles')
        .values({ name: 'supervisor', permissions: JSON.stringify(['conversations:assign']) })
        .execute();
      const user = await w.server.users.create({
        email: 'carla@acme.example',
        password: PASSWORD,
        name: 'Carla Ruiz',
        emailVerified: true,
      });
      const company = await w.company();
      const invitation = await w.invite(company, 'Carla@Acme.example', { roles: ['member', 'supervisor'] });
      const browser = w.browser();
      const page = await browser.open(invitation.link);
      t.regex(textOf(page), /Ya tienes una cuenta con Carla@Acme\.example/);
      t.false(page.body.includes('value="signup"'), 'no sign-up for a taken address');

      // Even a tampered "signup" leads to the login, with the address filled in.
      const identifier = await browser.submit(page, '/invitations/start', { method: 'signup' });
      t.regex(textOf(identifier), /Inicia sesión/);
      t.regex(identifier.body, /value="Carla@Acme\.example"/);
      const { next } = await submitCredentials(browser, identifier, 'carla@acme.example', PASSWORD);
      t.true(next.url.startsWith(w.portal.redirectUri), next.url);
      t.is(w.portal.signIns[0]!.sub, user.id);
      t.deepEqual((await w.memberships.membership(company.row.id, user.id))?.roles, ['member', 'supervisor']);
    },
  );

  test.serial(`[${kind}] an existing account with an unverified email verifies it before it joins`, async (t) => {
    const w = await invitationWorld(kind);
    // As `umbral users add` without --verified makes it: it signs in without verifying, as ever.
    const user = await w.server.users.create({ email: 'dario@acme.example', password: PASSWORD });
    const company = await w.company();
    const invitation = await w.invite(company, 'dario@acme.example');
    const browser = w.browser();
    const page = await browser.open(invitation.link);
    const identifier = await browser.submit(page, '/invitations/start', { method: 'signin' });
    const { next } = await submitCredentials(browser, identifier, 'dario@acme.example', PASSWORD);
    t.regex(textOf(next), /Revisa tu correo/);
    t.is(await w.memberships.membership(company.row.id, user.id), undefined);
    const [mail] = await w.mailTo('dario@acme.example');
    const landed = await browser.submit(next, '/verify', { code: codeOf(mail!) });
    t.true(landed.url.startsWith(w.portal.redirectUri), landed.url);
    t.truthy(await w.memberships.membership(company.row.id, user.id));
  });

  test.serial(
    `[${kind}] signing in with another account is refused with the other ways in, and nothing is joined`,
    async (t) => {
      const w = await invitationWorld(kind);
      const other = await w.server.users.create({
        email: 'otra@example.com',
        password: PASSWORD,
        emailVerified: true,
      });
      const company = await w.company({ name: 'Acme S.A.' });
      const invitation = await w.invite(company, 'elena@acme.example');
      const browser = w.browser();
      const page = await browser.open(invitation.link);
      const signUp = await browser.submit(page, '/invitations/start', { method: 'signup' });
      const identifier = await browser.open(
        new URL(/href="([^"]*\?step=identifier)"/.exec(signUp.body)![1]!, signUp.url).href,
      );
      const { next } = await submitCredentials(browser, identifier, 'otra@example.com', PASSWORD);
      t.is(next.status, 403);
      const text = textOf(next);
      t.regex(text, /Esta no es la cuenta invitada/);
      t.regex(
        text,
        /Iniciaste sesión como otra@example\.com, pero la invitación a Acme S\.A\. es para elena@acme\.example/,
      );
      t.regex(next.body, /href="\/interaction\/[^"]+\/signup"/, 'create the invited account');
      t.regex(next.body, /\/federation\/google\/start/);
      t.regex(next.body, /\/federation\/microsoft\/start/);
      t.is(await w.memberships.membership(company.row.id, other.id), undefined);
      t.is(w.portal.signIns.length, 0);

      // The other way in, from the refusal: the invited address signs up and joins.
      const again = await browser.open(new URL(/href="([^"]*\/signup)"/.exec(next.body)![1]!, next.url).href);
      t.regex(again.body, /value="elena@acme\.example" readonly/);
      const verify = await browser.submit(again, '/signup', signUpFields({ name: 'Elena Paz' }));
      const [mail] = await w.mailTo('elena@acme.example');
      const landed = await browser.submit(verify, '/verify', { code: codeOf(mail!) });
      t.true(landed.url.startsWith(w.portal.redirectUri), landed.url);
      const elena = (await w.server.users.findByEmail('elena@acme.example'))!;
      t.truthy(await w.memberships.membership(company.row.id, elena.id));
      t.is(w.portal.signIns[0]!.sub, elena.id);
    },
  );

  test.serial(
    `[${kind}] without initiate_login_uri the member lands on the portal's origin; without a home portal, on the account page`,
    async (t) => {
      const w = await invitationWorld(kind);
      const user = await w.server.users.create({ email: 'fede@acme.example', password: PASSWORD, emailVerified: true });
      for (const [homeClientId, expected] of [
        [PLAIN_PORTAL.clientId, 'https://plain.example/'],
        [null, `${w.server.issuer}/account`],
      ] as const) {
        const company = await w.company({ homeClientId });
        const invitation = await w.invite(company, 'fede@acme.example');
        const browser = w.browser();
        const page = await browser.open(invitation.link);
        const identifier = await browser.submit(page, '/invitations/start', { method: 'signin' });
        // The account page is Umbral's own: followed to the end, signed in. The plain portal is not fetched.
        const stopAt = homeClientId === null ? undefined : expected;
        const { next } = await submitCredentials(browser, identifier, 'fede@acme.example', PASSWORD, stopAt);
        t.is(next.url, expected);
        t.truthy(await w.memberships.membership(company.row.id, user.id));
        if (homeClientId === null) {
          t.is(next.status, 200);
          t.regex(textOf(next), /fede@acme\.example/);
        }
      }
    },
  );
}
