import test from 'ava';
import { TENANT_ACME } from '../federation/federation-world.ts';
import { codeOf } from '../interactions/signup-fixture.ts';
import type { HttpBrowser, Page } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { type InvitationWorld, invitationWorlds, PASSWORD, textOf, urlsSeen } from './invitation-world.ts';

const invitationWorld = invitationWorlds(test);

/** The stand-in provider's page(s): the account, then Continue, until the browser is back at Umbral. */
async function atProvider(w: InvitationWorld, browser: HttpBrowser, page: Page, login: string): Promise<Page> {
  let current = page;
  for (
    let hops = 0;
    hops < 3 && /name="action"/.test(current.body) && !current.url.startsWith(w.server.issuer);
    hops++
  ) {
    current = await browser.submit(current, '', { login, action: 'login' });
  }
  return current;
}

/** From the invitation link through "Continuar con <provider>" to what Umbral shows after the provider. */
async function continueWith(
  w: InvitationWorld,
  browser: HttpBrowser,
  link: string,
  provider: 'google' | 'microsoft',
  login: string,
) {
  const invitationPage = await browser.open(link);
  const upstream = await browser.submit(invitationPage, '/invitations/start', { method: provider });
  const origin = new URL(provider === 'google' ? w.google.issuer : w.microsoft.authority).origin;
  if (!upstream.url.startsWith(origin)) throw new Error(`expected the provider's page, got ${upstream.url}`);
  return atProvider(w, browser, upstream, login);
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] "Continuar con Google" with the invited, verified email: sign-up, joined, portal`,
    async (t) => {
      const w = await invitationWorld(kind);
      const company = await w.company({ name: 'Acme S.A.' });
      const invitation = await w.invite(company, 'rosa@acme.example', { roles: ['admin'] });
      const google = w.google.addAccount({ email: 'rosa@acme.example', name: 'Rosa Vega' });
      const browser = w.browser();

      const signUp = await continueWith(w, browser, invitation.link, 'google', google.login);
      t.regex(textOf(signUp), /Crea tu cuenta/);
      t.regex(textOf(signUp), /rosa@acme\.example/);
      const login = urlsSeen(browser).find((url) => url.startsWith(w.google.issuer) && url.includes('login_hint'));
      t.truthy(login, 'Google is told which account to preselect');
      const landed = await browser.submit(signUp, '/federation/signup', { name: 'Rosa Vega', terms: 'accepted' });
      t.true(landed.url.startsWith(w.portal.redirectUri), landed.url);
      const user = (await w.server.users.findByEmail('rosa@acme.example'))!;
      t.true(user.email_verified);
      t.deepEqual((await w.memberships.membership(company.row.id, user.id))?.roles, ['admin']);
      t.is(w.portal.signIns[0]!.sub, user.id);
      t.false(
        urlsSeen(browser)
          .slice(1)
          .some((url) => url.includes(invitation.token)),
      );
    },
  );

  test.serial(
    `[${kind}] a Google account whose email differs from the invitation: refused before any account, the other ways shown, nothing joined`,
    async (t) => {
      const w = await invitationWorld(kind);
      const company = await w.company({ name: 'Acme S.A.' });
      const invitation = await w.invite(company, 'sara@acme.example');
      const personal = w.google.addAccount({ email: 'sara.personal@gmail.example', name: 'Sara' });
      const browser = w.browser();

      const refused = await continueWith(w, browser, invitation.link, 'google', personal.login);
      t.is(refused.status, 403);
      const text = textOf(refused);
      t.regex(text, /Esta no es la cuenta invitada/);
      t.regex(
        text,
        /Iniciaste sesión en Google como sara\.personal@gmail\.example, pero la invitación a Acme S\.A\. es para sara@acme\.example/,
      );
      t.regex(text, /No te unimos a la empresa ni creamos ninguna cuenta/);
      t.regex(refused.body, /href="\/interaction\/[^"]+\/signup"/, 'create the account by hand');
      t.regex(refused.body, /action="\/interaction\/[^"]+\/federation\/google\/start"/, 'another Google account');
      t.regex(refused.body, /action="\/interaction\/[^"]+\/federation\/microsoft\/start"/, 'Microsoft');
      t.notRegex(refused.body, /<script/);
      t.is(await w.server.users.findByEmail('sara.personal@gmail.example'), undefined, 'no account was created');
      t.deepEqual(await w.server.umbral.storage.db.selectFrom('federated_identities').selectAll().execute(), []);
      t.deepEqual(await w.memberships.members(company.row.id), []);
      // The refused upstream sign-in cannot be picked up again.
      const stale = await browser.open(refused.url.replace(/\/federation\/continue.*/, '/federation/signup?login=x'));
      t.not(stale.status, 200);

      // Another way from the refusal page (Google would pick the same signed-in account again): Microsoft.
      const work = w.microsoft.addAccount({ email: 'sara@acme.example', tid: TENANT_ACME, name: 'Sara Núñez' });
      const again = await browser.submit(refused, '/federation/microsoft/start', {});
      const signUp = await atProvider(w, browser, again, work.login);
      const verify = await browser.submit(signUp, '/federation/signup', { name: 'Sara Núñez', terms: 'accepted' });
      const [mail] = await w.mailTo('sara@acme.example');
      const landed = await browser.submit(verify, '/verify', { code: codeOf(mail!) });
      t.true(landed.url.startsWith(w.portal.redirectUri), landed.url);
      const user = (await w.server.users.findByEmail('sara@acme.example'))!;
      t.truthy(await w.memberships.membership(company.row.id, user.id));
      t.is((await w.memberships.members(company.row.id)).length, 1);
    },
  );

  test.serial(
    `[${kind}] an existing account with the invited email links Google with its password, and joins`,
    async (t) => {
      const w = await invitationWorld(kind);
      const user = await w.server.users.create({
        email: 'ursula@acme.example',
        password: PASSWORD,
        name: 'Úrsula Paz',
        emailVerified: true,
      });
      const company = await w.company();
      const invitation = await w.invite(company, 'ursula@acme.example', { roles: ['member'] });
      const google = w.google.addAccount({ email: 'ursula@acme.example' });
      const browser = w.browser();
      const link = await continueWith(w, browser, invitation.link, 'google', google.login);
      t.regex(textOf(link), /Vincula tu cuenta de Google/);
      const landed = await browser.submit(link, '/federation/link', { password: PASSWORD });
      t.true(landed.url.startsWith(w.portal.redirectUri), landed.url);
      t.is(w.portal.signIns[0]!.sub, user.id);
      t.truthy(await w.memberships.membership(company.row.id, user.id));
    },
  );

  test.serial(
    `[${kind}] "Continuar con Microsoft" with the invited email: the verification email, then joined`,
    async (t) => {
      const w = await invitationWorld(kind);
      const company = await w.company({ name: 'Acme S.A.' });
      const invitation = await w.invite(company, 'tomas@acme.example', { roles: ['admin'] });
      const account = w.microsoft.addAccount({ email: 'tomas@acme.example', tid: TENANT_ACME, name: 'Tomás Rey' });
      const browser = w.browser();
      const signUp = await continueWith(w, browser, invitation.link, 'microsoft', account.login);
      t.regex(textOf(signUp), /Crea tu cuenta/);
      const verify = await browser.submit(signUp, '/federation/signup', { name: 'Tomás Rey', terms: 'accepted' });
      t.regex(textOf(verify), /Revisa tu correo/);
      const user = (await w.server.users.findByEmail('tomas@acme.example'))!;
      t.is(await w.memberships.membership(company.row.id, user.id), undefined, 'not before the email is verified');
      const [mail] = await w.mailTo('tomas@acme.example');
      const landed = await browser.submit(verify, '/verify', { code: codeOf(mail!) });
      t.true(landed.url.startsWith(w.portal.redirectUri), landed.url);
      t.deepEqual((await w.memberships.membership(company.row.id, user.id))?.roles, ['admin']);
      t.deepEqual(w.portal.signIns[0]!.claims['amr'], ['fed']);
    },
  );
}
