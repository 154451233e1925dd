import test from 'ava';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { newOpaqueToken } from '../../src/users/account-tokens.ts';
import { STACK_TRACE } from '../browser/browser-support.ts';
import { signUpWorlds } from '../interactions/signup-fixture.ts';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { invitationWorlds, PASSWORD, textOf, urlsSeen } from './invitation-world.ts';

const invitationWorld = invitationWorlds(test);
const plainWorld = signUpWorlds(test);
const DAY = 24 * 3600_000;

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] the link's token leaves the URL at once; the page says who invites, to what, with which roles`,
    async (t) => {
      const w = await invitationWorld(kind);
      const inviter = await w.server.users.create({
        email: 'gerente@acme.example',
        password: PASSWORD,
        name: 'Gabriela Soto',
        emailVerified: true,
      });
      const company = await w.company({ name: 'Acme S.A.' });
      const invitation = await w.invite(company, 'hugo@acme.example', {
        roles: ['admin', 'member'],
        invitedBy: inviter.id,
      });
      const browser = w.browser();

      const first = await browser.request(invitation.link);
      t.is(first.status, 303);
      t.is(first.headers.get('location'), '/invitations');
      t.is(first.headers.get('referrer-policy'), 'no-referrer');
      const cookie = first.headers.getSetCookie().find((c) => c.startsWith('umbral.invitation-link='))!;
      t.regex(cookie, /path=\/invitations;/);
      t.regex(cookie, /httponly/i);
      t.regex(cookie, /samesite=lax/i);

      const page = await browser.follow(first);
      t.is(page.status, 200);
      t.is(page.url, `${w.server.issuer}/invitations`);
      t.is(page.headers.get('referrer-policy'), 'no-referrer');
      t.regex(page.body, /<meta name="referrer" content="no-referrer">/);
      t.regex(page.headers.get('cache-control')!, /no-store/);
      const text = textOf(page);
      t.regex(text, /Únete a Acme S\.A\./);
      t.regex(text, /Gabriela Soto te invitó a unirte a Acme S\.A\. en Portal de Clientes\./);
      t.regex(text, /Gabriela Soto \(gerente@acme\.example\)/);
      t.regex(text, /Invitación para hugo@acme\.example/);
      t.regex(text, /Roles Administrador, Miembro/);
      t.regex(text, /Vence el/);
      t.regex(text, /Crear cuenta/);
      t.regex(text, /Continuar con Google/);
      t.regex(text, /Continuar con Microsoft/);
      t.regex(page.body, /name="_csrf"/);
      t.notRegex(page.body, /<script/);
      t.false(page.body.includes(invitation.token));
      t.is(urlsSeen(browser).filter((url) => url.includes(invitation.token)).length, 1);
    },
  );

  test.serial(`[${kind}] an invitation without an inviting person names the company; pt-BR and en pages`, async (t) => {
    const w = await invitationWorld(kind);
    const company = await w.company({ name: 'Acme S.A.' });
    await w.server.umbral.storage.db
      .insertInto('roles')
      .values({ name: 'supervisor', permissions: JSON.stringify(['conversations:assign']) })
      .execute();
    const invitation = await w.invite(company, 'ines@acme.example', { roles: ['supervisor'], invitedBy: 'operator' });
    const spanish = textOf(await w.browser().open(invitation.link));
    t.regex(spanish, /Acme S\.A\. te invitó a unirte a Portal de Clientes\./);
    t.regex(spanish, /Roles supervisor/);
    const portuguese = textOf(await w.browser({ 'accept-language': 'pt-BR,pt;q=0.9' }).open(invitation.link));
    t.regex(portuguese, /Junte-se a Acme S\.A\./);
    t.regex(portuguese, /Criar conta/);
    const english = textOf(await w.browser({ 'accept-language': 'en-US,en;q=0.9' }).open(invitation.link));
    t.regex(english, /Acme S\.A\. invited you to join Portal de Clientes\./);
    t.regex(english, /Continue with Google/);
  });

  test.serial(`[${kind}] only the configured providers are offered`, async (t) => {
    const w = await plainWorld(kind);
    const db = w.server.umbral.storage.db;
    const company = await new OrganizationRepository(db).create({
      name: 'Beta Ltda.',
      slug: 'beta',
      activatesAt: new Date(Date.now() - DAY),
    });
    const { token } = await new InvitationRepository(db).invite({
      organizationId: company.row.id,
      email: 'julia@beta.example',
      roles: ['member'],
      invitedBy: null,
      withToken: true,
    });
    const page = await new HttpBrowser().open(`${w.server.issuer}/invitations/${token}`);
    t.is(page.status, 200);
    t.regex(textOf(page), /Beta Ltda\. te invitó a unirte\./, 'no home portal to name');
    t.notRegex(page.body, /Continuar con/);
    t.regex(textOf(page), /Crear cuenta/);
  });

  test.serial(`[${kind}] unknown, malformed and missing links: 404 in the person's language`, async (t) => {
    const w = await invitationWorld(kind);
    for (const [url, headers] of [
      [`${w.server.issuer}/invitations/${newOpaqueToken()}`, {}],
      [`${w.server.issuer}/invitations/not-a-token`, {}],
      [`${w.server.issuer}/invitations`, {}],
      [`${w.server.issuer}/invitations/${newOpaqueToken()}`, { 'accept-language': 'en' }],
    ] as const) {
      const page = await w.browser(headers).open(url);
      t.is(page.status, 404, url);
      t.is(page.url, `${w.server.issuer}/invitations`);
      t.notRegex(page.body, STACK_TRACE);
      const text = textOf(page);
      if ('accept-language' in headers) {
        t.regex(text, /The invitation link is not valid/);
        t.regex(text, /ask whoever invited you for a new invitation/);
      } else {
        t.regex(text, /El enlace de invitación no es válido/);
        t.regex(text, /pide a quien te invitó una nueva invitación/);
      }
      t.regex(page.body, /href="\/account"/, 'a way to sign in');
    }
  });

  test.serial(
    `[${kind}] expired, revoked, suspended and used links: 410 with the reason and a way forward`,
    async (t) => {
      const w = await invitationWorld(kind);
      const company = await w.company({ name: 'Acme S.A.' });
      const eightDaysAgo = new InvitationRepository(w.server.umbral.storage.db, () => Date.now() - 8 * DAY);
      const expired = await w.invite(company, 'kevin@acme.example', { repository: eightDaysAgo });
      const revoked = await w.invite(company, 'laura@acme.example');
      await w.invitations.revoke(company.row.id, 'laura@acme.example');
      const suspendedCompany = await w.company({ name: 'Gamma S.A.' });
      const suspended = await w.invite(suspendedCompany, 'mario@gamma.example');
      await w.organizations.suspend(suspendedCompany.row.id);

      const cases = [
        [expired.link, /La invitación venció/, /pide al administrador de Acme S\.A\. una nueva invitación/],
        [revoked.link, /La invitación fue cancelada/, /pide al administrador de Acme S\.A\. una nueva invitación/],
        [suspended.link, /La empresa no está disponible/, /Gamma S\.A\. está suspendida o terminó/],
      ] as const;
      for (const [link, title, forward] of cases) {
        const browser = w.browser();
        const page = await browser.open(link);
        t.is(page.status, 410, String(title));
        t.regex(textOf(page), title);
        t.regex(textOf(page), forward);
        t.notRegex(page.body, STACK_TRACE);
        t.regex(
          page.body,
          /class="button primary" href="https:\/\/127\.0\.0\.1:\d+\/login\?iss=/,
          'sign in at the portal',
        );
        t.false(browser.cookieNames().includes('umbral.invitation-link'), 'a dead link is forgotten');
        // Nor does the button's POST start anything for it.
        const start = await browser.request(`${w.server.issuer}/invitations/start`, { form: { method: 'signup' } });
        t.not(start.status, 303);
      }
      const english = await w.browser({ 'accept-language': 'en' }).open(expired.link);
      t.regex(textOf(english), /The invitation has expired/);
    },
  );

  test.serial(`[${kind}] a used link is told so, in any browser, and nothing is joined twice`, async (t) => {
    const w = await invitationWorld(kind);
    const user = await w.server.users.create({ email: 'nadia@acme.example', password: PASSWORD, emailVerified: true });
    const company = await w.company({ name: 'Acme S.A.' });
    const invitation = await w.invite(company, 'nadia@acme.example', { roles: ['admin'] });
    const browser = w.browser();
    const page = await browser.open(invitation.link);
    const identifier = await browser.submit(page, '/invitations/start', { method: 'signin' });
    const { next } = await submitCredentials(browser, identifier, 'nadia@acme.example', PASSWORD);
    t.true(next.url.startsWith(w.portal.redirectUri));

    for (const again of [browser, w.browser()]) {
      const reused = await again.open(invitation.link);
      t.is(reused.status, 410);
      t.regex(textOf(reused), /La invitación ya se usó/);
      t.regex(textOf(reused), /Si eres tú, inicia sesión para entrar/);
      t.notRegex(textOf(reused), /nueva invitación/);
    }
    t.is((await w.memberships.members(company.row.id)).length, 1);
    t.is(w.portal.signIns.length, 1);
    t.is(user.id, w.portal.signIns[0]!.sub);
  });

  test.serial(
    `[${kind}] two tabs of one browser: the second to finish lands in the portal too, one membership`,
    async (t) => {
      const w = await invitationWorld(kind);
      const user = await w.server.users.create({ email: 'olga@acme.example', password: PASSWORD, emailVerified: true });
      const company = await w.company();
      const invitation = await w.invite(company, 'olga@acme.example', { roles: ['member'] });
      const browser = w.browser();
      const page = await browser.open(invitation.link);
      const tabA = await browser.submit(page, '/invitations/start', { method: 'signin' });
      const tabB = await browser.submit(page, '/invitations/start', { method: 'signin' });
      t.not(tabA.url, tabB.url, 'two interactions');

      const a = await submitCredentials(browser, tabA, 'olga@acme.example', PASSWORD);
      t.true(a.next.url.startsWith(w.portal.redirectUri), a.next.url);
      const b = await submitCredentials(browser, tabB, 'olga@acme.example', PASSWORD);
      t.true(b.next.url.startsWith(w.portal.redirectUri), b.next.url);
      t.is(w.portal.signIns.length, 2);
      const members = await w.memberships.members(company.row.id);
      t.deepEqual(
        members.map((m) => [m.userId, m.roles]),
        [[user.id, ['member']]],
      );
    },
  );

  test.serial(
    `[${kind}] revoked while the person signs in: the sign-in holds, the landing says why, nothing joined`,
    async (t) => {
      const w = await invitationWorld(kind);
      const user = await w.server.users.create({
        email: 'pablo@acme.example',
        password: PASSWORD,
        emailVerified: true,
      });
      const company = await w.company({ name: 'Acme S.A.' });
      const invitation = await w.invite(company, 'pablo@acme.example');
      const browser = w.browser();
      const page = await browser.open(invitation.link);
      const identifier = await browser.submit(page, '/invitations/start', { method: 'signin' });
      await w.invitations.revoke(company.row.id, 'pablo@acme.example');
      const { next } = await submitCredentials(browser, identifier, 'pablo@acme.example', PASSWORD);
      t.is(next.status, 410);
      t.is(next.url, `${w.server.issuer}/invitations/landing`);
      t.regex(textOf(next), /La invitación fue cancelada/);
      t.regex(textOf(next), /Tu inicio de sesión sí se completó/);
      t.regex(next.body, /href="\/account"/);
      t.is(await w.memberships.membership(company.row.id, user.id), undefined);
      const account = await browser.open(`${w.server.issuer}/account`);
      t.is(account.status, 200, 'signed in');
      t.regex(textOf(account), /pablo@acme\.example/);
    },
  );

  test.serial(
    `[${kind}] another portal's sign-in in the same browser does not pick up a started invitation`,
    async (t) => {
      const w = await invitationWorld(kind);
      const user = await w.server.users.create({ email: 'raul@acme.example', password: PASSWORD, emailVerified: true });
      const company = await w.company();
      const invitation = await w.invite(company, 'raul@acme.example');
      const browser = w.browser();
      const page = await browser.open(invitation.link);
      // The way to /auth is cut short: the invitation's start cookie is left unclaimed.
      const cut = await browser.submit(page, '/invitations/start', { method: 'signup' }, `${w.server.issuer}/auth`);
      t.regex(cut.url, /\/auth\?/);
      const identifier = await browser.open(`${w.portal.initiateLoginUri}?iss=${encodeURIComponent(w.server.issuer)}`);
      t.regex(identifier.body, /action="\/interaction\/[^"]+\/identifier"/, "the portal's own login page");
      t.notRegex(identifier.url, /\/signup$/, "not the invitation's sign-up");
      const { next } = await submitCredentials(browser, identifier, 'raul@acme.example', PASSWORD);
      t.true(next.url.startsWith(w.portal.redirectUri), next.url);
      t.is(await w.memberships.membership(company.row.id, user.id), undefined);
    },
  );

  test.serial(`[${kind}] the start button's form needs its CSRF token; an unknown way in is refused`, async (t) => {
    const w = await invitationWorld(kind);
    const company = await w.company();
    const invitation = await w.invite(company, 'quique@acme.example');
    const browser = w.browser();
    const page = await browser.open(invitation.link);
    const forged = await browser.request(`${w.server.issuer}/invitations/start`, { form: { method: 'signup' } });
    t.is(forged.status, 403);
    t.regex(textOf(forged), /El formulario venció/);
    const unknown = await browser.submit(page, '/invitations/start', { method: 'passkey-magic' });
    t.is(unknown.status, 400);
    t.regex(textOf(unknown), /Únete a Acme S\.A\./);
    t.false(browser.cookieNames().some((name) => name.startsWith('umbral.invitation-start')));
  });
}
