import test from 'ava';
import { generate } from 'otplib';
import { createLogger } from '../../src/logging/logger.ts';
import { lastMonday, WeeklySummaryScheduler } from '../../src/organizations/weekly-summary-scheduler.ts';
import { codeOf, signUpFields } from '../interactions/signup-fixture.ts';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import type { HttpBrowser, Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { JOURNEY_STORES, type StoreKind } from '../support/stores.ts';
import { type InvitationWorld, invitationWorlds, PASSWORD, textOf } from './invitation-world.ts';

const invitationWorld = invitationWorlds(test);

/** `organization: required`; `--collect-company --require-mfa` (the customer cloud); `--collect-company`. */
const PORTALS = {
  crm: { clientId: 'crm', redirectUri: 'http://127.0.0.1:9/crm/cb' },
  cloud: { clientId: 'cloud', redirectUri: 'http://127.0.0.1:9/cloud/cb' },
  lite: { clientId: 'cloud-lite', redirectUri: 'http://127.0.0.1:9/lite/cb' },
};
/** The portal asks the organization's claims (`org_*`). */
const ORG_SCOPE = 'openid email profile organization';
type Portals = Record<keyof typeof PORTALS, RelyingParty>;
type World = InvitationWorld & { rps: Portals };

/** The invitation world (SMTP, Google and Microsoft stand-ins) with three portals of this file's own, registered once. */
const registered = new Map<StoreKind, Promise<Portals>>();
async function world(kind: StoreKind): Promise<World> {
  const w = await invitationWorld(kind);
  let rps = registered.get(kind);
  if (!rps) {
    const register = async (key: keyof typeof PORTALS, extra: Record<string, unknown>) => {
      const { clientId, redirectUri } = PORTALS[key];
      const client = await w.server.registerClient({
        clientId,
        name: `Portal ${key}`,
        redirectUris: [redirectUri],
        ...extra,
      });
      return RelyingParty.discover(w.server.issuer, clientId, client.client_secret, redirectUri);
    };
    rps = (async () => ({
      crm: await register('crm', { organization: 'required' }),
      cloud: await register('cloud', { collectCompany: true, requireMfa: true, name: 'Customer Cloud' }),
      lite: await register('lite', { collectCompany: true }),
    }))();
    registered.set(kind, rps);
  }
  return { ...w, rps: await rps };
}

/** A valid company in Argentina: the AFIP's own CUIT. */
function acmeFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    country: 'AR',
    legal_name: 'Acme S.A.',
    tax_id: '30-50001091-2',
    employees: '11-50',
    segment: 'technology',
    postal_code: 'C1425DKF',
    address_line: 'Av. Santa Fe',
    address_number: '1234',
    address_complement: 'Piso 3',
    ...overrides,
  };
}

async function counts(w: World) {
  const db = w.server.umbral.storage.db;
  const orgs = await db.selectFrom('organizations').select('id').execute();
  const members = await db.selectFrom('organization_memberships').select('user_id').execute();
  return { organizations: orgs.length, memberships: members.length };
}

/** An existing verified account signs in at the portal with its password: the company form is next. */
async function companyPage(w: World, browser: HttpBrowser, rp: RelyingParty, email: string) {
  await w.server.users.create({ email, password: PASSWORD, name: 'Bruno Díaz', emailVerified: true });
  const request = await rp.authorizationRequest({ scope: ORG_SCOPE });
  const identifier = await browser.open(request.url, rp.redirectUri);
  const { next } = await submitCredentials(browser, identifier, email, PASSWORD, rp.redirectUri);
  return { request, page: next };
}

function fieldError(page: Page, field: string): string | undefined {
  const input = new RegExp(
    `<(?:input|select) id="${field}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*${field}-error`,
  );
  if (!input.test(page.body)) return undefined;
  return /<p id="[^"]+-error" class="error">([^<]*)<\/p>/.exec(
    page.body.slice(page.body.indexOf(`id="${field}"`)),
  )?.[1];
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a sign-in at an organization's portal is recorded with its method and organization`,
    async (t) => {
      const w = await world(kind);
      const company = await w.company();
      const user = await w.server.users.create({ email: 'ana@acme.example', password: PASSWORD, emailVerified: true });
      await w.memberships.join({
        organizationId: company.row.id,
        userId: user.id,
        roles: ['member'],
        invitedBy: 'operator',
      });

      const { callback } = await w.rps.crm.signIn(w.browser(), 'ana@acme.example', PASSWORD);
      t.true(callback.url.startsWith(PORTALS.crm.redirectUri), callback.url);
      const events = w.server.umbral.insights.signInEvents;
      await events.flush();
      const rows = await w.server.umbral.storage.db.selectFrom('sign_in_events').selectAll().execute();
      t.is(rows.length, 1);
      t.like(rows[0], { user_id: user.id, organization_id: company.row.id, client_id: 'crm', method: 'password' });
      t.deepEqual((await events.lastSignIns(company.row.id, [user.id])).get(user.id)?.methods, ['password']);
    },
  );

  test.serial(
    `[${kind}] a new customer signs up, turns on two-factor, is refused an invalid CUIT with the reason, and reaches the portal with the company's claims`,
    async (t) => {
      const w = await world(kind);
      const rp = w.rps.cloud;
      const browser = w.browser({ 'accept-language': 'es-AR' });
      const request = await rp.authorizationRequest({ prompt: 'create', scope: ORG_SCOPE });
      const signUp = await browser.open(request.url, rp.redirectUri);
      t.regex(signUp.body, /action="[^"]*\/signup"/, 'prompt=create opens the sign-up');
      const verify = await browser.submit(
        signUp,
        '/signup',
        signUpFields({ email: 'carla@nueva.example', name: 'Carla Ruiz' }),
      );
      const [mail] = await w.mailTo('carla@nueva.example');
      const enroll = await browser.submit(verify, '/verify', { code: codeOf(mail!) }, rp.redirectUri);
      t.regex(enroll.url, /\/mfa\/enroll$/, 'after the email, the second factor the portal requires');
      const setup = await browser.submit(enroll, '/mfa/enroll/totp', {});
      const secret = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(setup.body)![1]!.replace(/ /g, '');
      const codes = await browser.submit(setup, '/mfa/enroll/totp/confirm', { code: await generate({ secret }) });
      const form = await browser.submit(codes, '/mfa/enroll/done', {}, rp.redirectUri);
      t.regex(form.url, /\/interaction\/[^/]+\/company$/, 'then the company');
      t.regex(textOf(form), /Datos de tu empresa/);
      t.regex(textOf(form), /Para continuar en Customer Cloud/);
      t.is((await counts(w)).organizations, 0);

      const refused = await browser.submit(form, '/company', acmeFields({ tax_id: '30-50001091-3' }), rp.redirectUri);
      t.is(refused.status, 400);
      t.is(fieldError(refused, 'tax_id'), 'El CUIT no es válido: el dígito verificador no coincide');
      t.regex(refused.body, /id="legal_name"[^>]*value="Acme S\.A\."/, 'values typed are kept');
      t.regex(refused.body, /<option value="AR" selected>/);
      t.deepEqual(await counts(w), { organizations: 0, memberships: 0 }, 'nothing created');

      const callback = await browser.submit(refused, '/company', acmeFields(), rp.redirectUri);
      t.true(callback.url.startsWith(rp.redirectUri), callback.url);
      const tokens = await rp.exchange(callback.url, request);
      const claims = tokens.claims()!;
      t.like(claims, { org_name: 'Acme S.A.', org_country: 'AR', org_tax_id: '30500010912', org_roles: ['admin'] });
      t.is(claims['acr'], 'urn:umbral:acr:mfa');
      const user = (await w.server.users.findByEmail('carla@nueva.example'))!;
      const org = await w.server.umbral.storage.db
        .selectFrom('organizations')
        .selectAll()
        .where('id', '=', String(claims['org_id']))
        .executeTakeFirstOrThrow();
      t.like(org, {
        legal_name: 'Acme S.A.',
        employee_band: '11-50',
        segment: 'technology',
        postal_code: 'C1425DKF',
        address_line: 'Av. Santa Fe',
        address_number: '1234',
        address_complement: 'Piso 3',
        home_client_id: 'cloud',
      });
      t.deepEqual((await w.memberships.membership(org.id, user.id))?.roles, ['admin']);
      await w.server.umbral.audit.flush();
      const [registered] = (await w.server.umbral.audit.query({ type: 'organization.registered' })).events;
      t.like(registered, { organizationId: org.id, subjectUserId: user.id, actor: { kind: 'user', id: user.id } });
    },
  );

  test.serial(
    `[${kind}] a tax id registered to another company is refused, revealing nothing, and its admins are emailed once, each in their language`,
    async (t) => {
      const w = await world(kind);
      const holder = await w.organizations.create({
        name: 'Industrias Sur S.A.',
        slug: 'sur',
        activatesAt: new Date(Date.now() - 3600_000),
        country: 'AR',
        taxId: '30500010912',
      });
      for (const [email, locale] of [
        ['dora@sur.example', 'es'],
        ['joao@sur.example', 'pt-BR'],
      ] as const) {
        const admin = await w.server.users.create({ email, password: PASSWORD, emailVerified: true });
        await w.server.umbral.storage.db.updateTable('users').set({ locale }).where('id', '=', admin.id).execute();
        await w.memberships.join({
          organizationId: holder.row.id,
          userId: admin.id,
          roles: ['admin'],
          invitedBy: 'operator',
        });
      }
      const before = await counts(w);
      const browser = w.browser();
      const { page } = await companyPage(w, browser, w.rps.lite, 'bruno@otra.example');
      t.regex(page.url, /\/company$/);
      const refused = await browser.submit(page, '/company', acmeFields({ legal_name: 'Otra S.R.L.' }));
      t.is(refused.status, 409);
      t.is(
        fieldError(refused, 'tax_id'),
        'Ese CUIT ya está registrado para otra empresa. Pide a quienes la administran que te inviten: les avisamos que alguien lo pidió.',
      );
      t.false(textOf(refused).includes('Industrias Sur'), "the holder's name is not shown");
      t.deepEqual(await counts(w), before, 'nothing created');

      await w.server.umbral.mailer.drain();
      const [es] = await w.mailTo('dora@sur.example');
      const [pt] = await w.mailTo('joao@sur.example');
      t.is(es!.subject, 'Alguien quiere unirse a Industrias Sur S.A. en Portal lite');
      t.regex(
        es!.text!,
        /Bruno Díaz \(bruno@otra\.example\) intentó registrar una empresa en Portal lite con el CUIT 30-50001091-2/,
      );
      t.true(es!.text!.includes(`${w.server.issuer}/org`));
      t.is(pt!.subject, 'Alguém quer entrar em Industrias Sur S.A. no Portal lite');

      // Asking again the same day tells the person the same, and mails no one again.
      const again = await browser.submit(refused, '/company', acmeFields());
      t.is(again.status, 409);
      await w.server.umbral.mailer.drain();
      t.is(w.smtp.received.length, 2, 'one mail to each admin, not two');
    },
  );

  test.serial(
    `[${kind}] empty, too long and HTML input get field errors and create nothing; an RFC check digit only warns`,
    async (t) => {
      const w = await world(kind);
      const browser = w.browser();
      const { request, page } = await companyPage(w, browser, w.rps.lite, 'eva@mx.example');
      const empty = await browser.submit(page, '/company', {});
      t.is(empty.status, 400);
      for (const field of [
        'country',
        'legal_name',
        'tax_id',
        'employees',
        'segment',
        'postal_code',
        'address_line',
        'address_number',
      ]) {
        t.truthy(fieldError(empty, field), `${field} has its error`);
      }
      t.is(fieldError(empty, 'address_complement'), undefined, 'the complement is optional');

      const bad = await browser.submit(
        empty,
        '/company',
        acmeFields({
          country: 'MX',
          legal_name: 'x'.repeat(201),
          tax_id: 'GODE561231GR8',
          postal_code: '6600',
          address_line: '<script>alert(1)</script>',
          address_complement: '<b>',
          segment: 'not-a-segment',
        }),
      );
      t.is(bad.status, 400);
      t.is(fieldError(bad, 'legal_name'), 'Usa como máximo 200 caracteres.');
      t.is(fieldError(bad, 'address_line'), 'No uses los signos &lt; ni &gt;.');
      t.is(fieldError(bad, 'address_complement'), 'No uses los signos &lt; ni &gt;.');
      t.is(fieldError(bad, 'postal_code'), 'El código postal no es válido: en México tiene 5 dígitos');
      t.truthy(fieldError(bad, 'segment'));
      t.is(fieldError(bad, 'tax_id'), undefined, 'a valid RFC');
      t.false(bad.body.includes('<script>alert(1)'), 'typed HTML is shown back escaped');
      t.true(bad.body.includes('value="&lt;script&gt;alert(1)&lt;/script&gt;"'));
      t.deepEqual(await counts(w), { organizations: 0, memberships: 0 });

      // A person's RFC whose check digit does not match: a warning, confirmed by sending it again.
      const fields = acmeFields({
        country: 'MX',
        legal_name: 'Eva Gómez',
        tax_id: 'GODE561231GR9',
        postal_code: '06600',
      });
      const warned = await browser.submit(bad, '/company', fields);
      t.is(warned.status, 200);
      t.regex(warned.body, /id="tax_id-warning" class="warning"[^>]*>El dígito verificador del RFC no coincide/);
      t.regex(warned.body, /id="tax_id"[^>]*aria-describedby="tax_id-hint tax_id-warning"/);
      t.is((await counts(w)).organizations, 0);
      const callback = await browser.submit(warned, '/company', fields, w.rps.lite.redirectUri);
      t.true(callback.url.startsWith(w.rps.lite.redirectUri), callback.url);
      const claims = (await w.rps.lite.exchange(callback.url, request)).claims();
      t.like(claims, { org_country: 'MX', org_tax_id: 'GODE561231GR9' });
    },
  );
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] the admins hear once, in their language, that a collaborator accepted an invitation`,
    async (t) => {
      const w = await world(kind);
      const company = await w.company({ name: 'Acme S.A.' });
      const admins = [];
      for (const [email, locale] of [
        ['ana@acme.example', 'en'],
        ['beto@acme.example', 'es'],
      ] as const) {
        const admin = await w.server.users.create({
          email,
          password: PASSWORD,
          name: email.split('@')[0],
          emailVerified: true,
        });
        await w.server.umbral.storage.db.updateTable('users').set({ locale }).where('id', '=', admin.id).execute();
        await w.memberships.join({
          organizationId: company.row.id,
          userId: admin.id,
          roles: ['admin'],
          invitedBy: 'operator',
        });
        admins.push(admin);
      }
      const invitation = await w.invite(company, 'carla@acme.example', { roles: ['member'], invitedBy: admins[0]!.id });
      const browser = w.browser();
      const page = await browser.open(invitation.link);
      const signUp = await browser.submit(page, '/invitations/start', { method: 'signup' });
      const verify = await browser.submit(
        signUp,
        '/signup',
        signUpFields({ email: 'carla@acme.example', name: 'Carla Ruiz' }),
      );
      const [code] = await w.mailTo('carla@acme.example');
      await browser.submit(verify, '/verify', { code: codeOf(code!) });
      t.truthy(
        await w.memberships.membership(company.row.id, (await w.server.users.findByEmail('carla@acme.example'))!.id),
      );

      await w.server.umbral.mailer.drain();
      const [en] = await w.mailTo('ana@acme.example');
      const [es] = await w.mailTo('beto@acme.example');
      t.is(en!.subject, 'Carla Ruiz joined Acme S.A. on Portal de Clientes');
      t.regex(en!.text!, /Carla Ruiz \(carla@acme\.example\) accepted the invitation/);
      t.regex(en!.text!, /Their roles: member\./);
      t.is(es!.subject, 'Carla Ruiz se unió a Acme S.A. en Portal de Clientes');
      t.regex(es!.text!, /Sus roles: miembro\./);

      // The same link again: the invitation is used, nobody is told twice.
      const reused = await w.browser().open(invitation.link);
      t.not(reused.status, 500);
      await w.server.umbral.mailer.drain();
      const notices = w.smtp.received.filter((mail) => /joined|se unió/.test(mail.subject ?? ''));
      t.is(notices.length, 2, 'one notice to each admin');
      t.false(
        w.smtp.received.some(
          (mail) => mail.to && JSON.stringify(mail.to).includes('carla@') && /joined|se unió/.test(mail.subject ?? ''),
        ),
        'the collaborator is not told of themselves',
      );
    },
  );

  test.serial(
    `[${kind}] the weekly summary goes once across schedulers to the admins who keep it on, with the week's figures`,
    async (t) => {
      const w = await world(kind);
      const db = w.server.umbral.storage.db;
      const company = await w.company({ name: 'Acme S.A.' });
      const people: Record<string, { id: string }> = {};
      for (const [email, roles] of [
        ['ana@acme.example', ['admin']],
        ['beto@acme.example', ['admin']],
        ['carla@acme.example', ['member']],
      ] as const) {
        people[email] = await w.server.users.create({ email, password: PASSWORD, emailVerified: true });
        await w.memberships.join({
          organizationId: company.row.id,
          userId: people[email]!.id,
          roles: [...roles],
          invitedBy: 'operator',
        });
      }
      await db
        .insertInto('mfa_factors')
        .values({ id: 'f1', user_id: people['ana@acme.example']!.id, kind: 'totp', confirmed_at: new Date() })
        .execute();
      const preferences = w.server.umbral.insights.weeklySummaryPreferences;
      t.true(await preferences.isOn(company.row.id, people['beto@acme.example']!.id), 'on unless turned off');
      await preferences.set(company.row.id, people['beto@acme.example']!.id, false);
      await preferences.set(company.row.id, people['beto@acme.example']!.id, false);
      t.false(await preferences.isOn(company.row.id, people['beto@acme.example']!.id));
      await preferences.set(company.row.id, people['ana@acme.example']!.id, true);

      // This week's sign-ins; the summary of this week goes out next Monday.
      const monday = lastMonday(new Date());
      const events = w.server.umbral.insights.signInEvents;
      for (const [email, at] of [
        ['carla@acme.example', new Date()],
        ['carla@acme.example', new Date()],
        ['ana@acme.example', new Date(monday.getTime() + 1000)],
        ['ana@acme.example', new Date(monday.getTime() - 1000)],
      ] as const) {
        events.record({
          userId: people[email]!.id,
          organizationId: company.row.id,
          clientId: 'crm',
          method: 'password',
          at,
        });
      }
      await events.flush();
      const nextMonday = monday.getTime() + 7 * 86_400_000 + 3600_000;
      const scheduler = () =>
        new WeeklySummaryScheduler({
          db,
          logger: createLogger('silent'),
          issuer: w.server.issuer,
          productName: 'Umbral',
          now: () => nextMonday,
        });
      const runs = await Promise.all([scheduler().runOnce(), scheduler().runOnce()]);
      t.is(runs[0]!.mails + runs[1]!.mails, 1, 'one mail, to the one admin who keeps it on');
      t.deepEqual(await scheduler().runOnce(), { organizations: 0, mails: 0 }, 'the week is sent');
      await w.server.umbral.mailer.drain();
      const [summary] = await w.mailTo('ana@acme.example');
      t.is(summary!.subject, 'Resumen semanal de Acme S.A. en Portal de Clientes');
      const text = summary!.text!;
      t.regex(text, /Personas nuevas: 3/);
      t.regex(text, /Personas activas \(de 3\): 2/);
      t.regex(text, /Inicios de sesión: 3/, 'the sign-in before Monday is last week');
      t.regex(text, /Con verificación en dos pasos: 33\s?%/);
      t.true(text.includes(`${w.server.issuer}/org/metrics`));
      t.false(
        w.smtp.received.some((mail) => JSON.stringify(mail.to).includes('beto@')),
        'the admin who turned it off',
      );
    },
  );
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] after a Google sign-up the company step comes too, and the sign-in is recorded as Google's for the new company`,
    async (t) => {
      const w = await world(kind);
      const rp = w.rps.lite;
      const google = w.google.addAccount({ email: 'gabi@pyme.example', name: 'Gabi Sosa' });
      const browser = w.browser();
      const request = await rp.authorizationRequest({ scope: ORG_SCOPE });
      const identifier = await browser.open(request.url, rp.redirectUri);
      let page = await browser.submit(identifier, '/federation/google/start', {}, rp.redirectUri);
      for (let hops = 0; hops < 3 && /name="action"/.test(page.body) && !page.url.startsWith(w.server.issuer); hops++) {
        page = await browser.submit(page, '', { login: google.login, action: 'login' }, rp.redirectUri);
      }
      const form = await browser.submit(
        page,
        '/federation/signup',
        { name: 'Gabi Sosa', terms: 'accepted' },
        rp.redirectUri,
      );
      t.regex(form.url, /\/company$/);
      const callback = await browser.submit(
        form,
        '/company',
        acmeFields({
          country: 'UY',
          tax_id: '21 100342 001 7',
          postal_code: '11300',
          legal_name: 'Pyme Uruguaya S.A.',
        }),
        rp.redirectUri,
      );
      t.true(callback.url.startsWith(rp.redirectUri), callback.url);
      const claims = (await rp.exchange(callback.url, request)).claims()!;
      t.like(claims, { org_name: 'Pyme Uruguaya S.A.', org_country: 'UY', org_tax_id: '211003420017' });
      await w.server.umbral.insights.signInEvents.flush();
      const rows = await w.server.umbral.storage.db.selectFrom('sign_in_events').selectAll().execute();
      t.is(rows.length, 1);
      t.like(rows[0], { organization_id: claims['org_id'], client_id: 'cloud-lite', method: 'google' });
    },
  );

  test.serial(
    `[${kind}] someone signed in already, without a company, gets the company step at the portal`,
    async (t) => {
      const w = await world(kind);
      const browser = w.browser();
      await w.server.users.create({
        email: 'hugo@pyme.example',
        password: PASSWORD,
        name: 'Hugo',
        emailVerified: true,
      });
      const account = await browser.open(`${w.server.issuer}/account`);
      const { next } = await submitCredentials(browser, account, 'hugo@pyme.example', PASSWORD);
      t.regex(textOf(next), /hugo@pyme\.example/, 'signed in at the account page');

      const rp = w.rps.lite;
      const request = await rp.authorizationRequest({ scope: ORG_SCOPE });
      const form = await browser.open(request.url, rp.redirectUri);
      t.regex(form.url, /\/company$/);
      t.regex(textOf(form), /Datos de tu empresa/);
      const callback = await browser.submit(form, '/company', acmeFields(), rp.redirectUri);
      t.true(callback.url.startsWith(rp.redirectUri), callback.url);
      t.like((await rp.exchange(callback.url, request)).claims(), { org_tax_id: '30500010912', org_roles: ['admin'] });
    },
  );
}
