import type { BrowserContext, Page } from 'playwright-core';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import type { FakeGoogle } from '../federation/fake-google.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import type { RunningUmbral } from '../support/umbral-server.ts';
import { expectHeading, landOn, PASSWORD, type Portal, submitEmail, submitPassword } from './browser-support.ts';

// The page walks of the axe audit (accessibility.test.ts) past the personal account's: the
// companies' pages (picker, company step, console, 403), the Google and Microsoft pages Umbral
// hosts, and the pages anyone may land on (invitations, errors, legal). Each page loaded once.

/** Every page and state the walk audits, in order: the test fails if one of them was not reached. */
export const COVERED = [
  ...['login identifier', 'login identifier with an error', 'password', 'password with an error'],
  ...['forgot password', 'forgot password sent', 'reset password', 'reset password with an error'],
  ...['password after a reset', 'password changed', 'reset password invalid link', 'consent'],
  ...['account profile', 'account password', 'account password with an error', 'account email'],
  ...['account email sent', 'account email change confirmation', 'account email changed', 'account sessions'],
  ...['account security without factors', 'TOTP enrolment', 'TOTP enrolment with an error', 'recovery codes'],
  ...['SMS enrolment', 'SMS enrolment code', 'account security with factors', 'factor removal confirmation'],
  ...['account identities', 'logout confirmation', 'logged out'],
  ...['MFA challenge: TOTP', 'MFA challenge: TOTP with an error', 'MFA challenge: SMS'],
  ...['MFA challenge: SMS code sent', 'MFA challenge: passkey', 'MFA challenge: recovery code'],
  ...['sign-up', 'sign-up with field errors', 'check email (verification code)', 'verification code with an error'],
  ...['verification link confirmation', 'verification done', 'verification link used or invalid'],
  'MFA enrolment at sign-in',
  ...['organization required', 'company step', 'company step with field errors', 'organization console forbidden'],
  ...['organization picker', 'company console members', 'company console member'],
  ...['company console exclusion unconfirmed', 'company console invitations'],
  ...['company console metrics', 'company console company', 'company console company with errors'],
  ...['federation sign-up', 'federation link', 'federation link with an error', 'federation error'],
  ...['invitation', 'invitation invalid', 'expired interaction', 'error page', 'form expired'],
  ...['unlock link invalid', 'legal terms', 'legal privacy'],
];

/** What every walk needs: the one Umbral, the one browser page (its context), the audit. */
export interface Walk {
  server: RunningUmbral;
  portal: Portal;
  context: BrowserContext;
  page: Page;
  audit: (page: Page, state: string) => Promise<void>;
}

/** Second factors at sign-in: each method of the challenge (a passkey added as a record: only shown). */
export async function walkSecondFactors(w: Walk, rp: RelyingParty, email: string, password: string) {
  const { page, audit } = w;
  const user = (await w.server.users.findByEmail(email))!;
  await w.server.umbral.mfa.factors.addPasskey(user.id, {
    label: 'Mi llave',
    credentialId: 'YWNjZXNzaWJpbGl0eQ',
    publicKey: new Uint8Array(32),
    signCount: 0,
    transports: ['internal'],
    deviceType: 'singleDevice',
    backedUp: false,
  });
  await page.goto((await rp.authorizationRequest()).url);
  await submitEmail(page, email);
  await submitPassword(page, password);
  await expectHeading(page, 'Verificación en dos pasos');
  const challenge = new URL(page.url());
  const others: string[] = [];
  for (const link of await page.locator('.mfa-others a').all()) others.push((await link.getAttribute('href')) ?? '');
  const kindOf = (text: string) =>
    /recuperación/i.test(text) ? 'recovery code' : /SMS/.test(text) ? 'SMS' : /llave/i.test(text) ? 'passkey' : 'TOTP';
  const current = kindOf(await page.locator('.lead').innerText());
  await audit(page, `MFA challenge: ${current}`);
  if (current === 'TOTP') {
    await page.fill('#code', '000000');
    await page.locator('form button.primary').click();
    await page.locator('#mfa-error').waitFor();
    await audit(page, 'MFA challenge: TOTP with an error');
  }
  for (const href of others) {
    await page.goto(new URL(href, challenge).href);
    await expectHeading(page, 'Verificación en dos pasos');
    const kind = kindOf(await page.locator('.lead').innerText());
    await audit(page, `MFA challenge: ${kind}`);
    if (kind === 'SMS') {
      await page.locator('form button.primary').click();
      await page.locator('#code').waitFor();
      await audit(page, 'MFA challenge: SMS code sent');
    }
  }
}

/**
 * A portal that requires an organization and one that collects the company, and two people:
 * one in no company (refused, asked for a company, forbidden the console), one admin of two (the
 * picker, then every console section).
 */
export async function walkCompanies(
  w: Walk,
  rps: { organization: RelyingParty; company: RelyingParty; plain: RelyingParty },
) {
  const { server, page, audit } = w;
  const db = server.umbral.storage.db;
  const [eli, dana] = await Promise.all(
    ['eli', 'dana'].map((name) =>
      server.users.create({ email: `${name}@example.com`, password: PASSWORD, name, emailVerified: true }),
    ),
  );
  const signIn = async (rp: RelyingParty, email: string) => {
    await page.goto((await rp.authorizationRequest()).url);
    await submitEmail(page, email);
    const passwordPage = page.url();
    await submitPassword(page, PASSWORD);
    await page.waitForURL((url) => url.href !== passwordPage);
  };
  await signIn(rps.organization, eli!.email);
  await expectHeading(page, 'Necesitas pertenecer a una empresa');
  await audit(page, 'organization required');
  await w.context.clearCookies();
  await signIn(rps.company, eli!.email);
  await expectHeading(page, 'Datos de tu empresa');
  await audit(page, 'company step');
  await page.selectOption('#country', 'AR');
  await page.fill('#tax_id', 'no es un CUIT');
  await page.locator('form button.primary').click();
  await page.locator('.error-summary').waitFor();
  await audit(page, 'company step with field errors');
  await w.context.clearCookies();
  await signIn(rps.plain, eli!.email);
  await landOn(page, w.portal.redirectUri);
  await page.goto(`${server.issuer}/org`);
  await expectHeading(page, 'No tienes acceso a esta consola');
  await audit(page, 'organization console forbidden');
  await w.context.clearCookies();

  const orgs = new OrganizationRepository(db);
  let andes: string | undefined;
  const memberships = new MembershipRepository(db);
  for (const [name, slug] of [
    ['Andes Ltda.', 'andes'],
    ['Bosque SpA', 'bosque'],
  ] as const) {
    const org = await orgs.create({ name, slug, activatesAt: new Date(Date.now() - 3600_000), homeClientId: 'portal' });
    andes ??= org.row.id;
    await memberships.join({
      organizationId: org.row.id,
      userId: dana!.id,
      roles: ['admin', 'member'],
      invitedBy: null,
    });
    await memberships.join({ organizationId: org.row.id, userId: eli!.id, roles: ['member'], invitedBy: null });
  }
  await signIn(rps.organization, dana!.email);
  await expectHeading(page, 'Elige tu empresa');
  await audit(page, 'organization picker');
  await page.locator('ul.organizations button.primary').click();
  await landOn(page, w.portal.redirectUri);
  await page.goto(`${server.issuer}/org?org=andes`);
  await expectHeading(page, 'Colaboradores');
  await audit(page, 'company console members');
  await page.goto(`${server.issuer}/org/members/${eli!.id}?org=andes`);
  await expectHeading(page, 'eli');
  await audit(page, 'company console member');
  // Excluding without ticking its box: the box is marked invalid, its error tied to it.
  await page.getByRole('button', { name: 'Excluir', exact: true }).click();
  await page.getByText('Marca la casilla para confirmar la exclusión.').waitFor();
  await audit(page, 'company console exclusion unconfirmed');
  await page.goto(`${server.issuer}/org/invitations?org=andes`);
  await expectHeading(page, 'Invitaciones');
  await audit(page, 'company console invitations');
  await page.goto(`${server.issuer}/org/metrics?org=andes`);
  await expectHeading(page, 'Métricas de uso');
  await audit(page, 'company console metrics');
  await page.goto(`${server.issuer}/org/company?org=andes`);
  await expectHeading(page, 'Datos de la empresa');
  await audit(page, 'company console company');
  await page.fill('#legal_name', '');
  await page.locator('form button.primary').click();
  await page.locator('.error-summary').waitFor();
  await audit(page, 'company console company with errors');
  await w.context.clearCookies();
  return { organizationId: andes! };
}

/** The pages Umbral hosts around Google's: a new person's sign-up, linking an account, an error. */
export async function walkFederation(w: Walk, google: FakeGoogle, rp: RelyingParty, existing: string) {
  const { page, audit } = w;
  const throughGoogle = async (login: string) => {
    await page.goto((await rp.authorizationRequest()).url);
    await page.getByRole('button', { name: 'Continuar con Google' }).click();
    await page.waitForURL((url) => url.href.startsWith(google.issuer));
    await page.getByLabel('Account').fill(login);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.href.startsWith(w.server.issuer));
    await page.locator('h1').waitFor();
  };
  await throughGoogle(google.addAccount({ email: 'fede@gmail.example', emailVerified: true, name: 'Fede' }).login);
  await expectHeading(page, 'Crea tu cuenta');
  await audit(page, 'federation sign-up');
  await w.context.clearCookies();
  await throughGoogle(google.addAccount({ email: existing, emailVerified: true }).login);
  await expectHeading(page, 'Vincula tu cuenta de Google');
  await audit(page, 'federation link');
  await page.getByLabel('Contraseña', { exact: true }).fill('not the password');
  await page.locator('form button.primary').click();
  await page.locator('.error').first().waitFor();
  await audit(page, 'federation link with an error');
  await page.goto(`${w.server.issuer}/federation/google/callback?state=not-a-sign-in`);
  await expectHeading(page, 'No pudimos iniciar sesión con Google');
  await audit(page, 'federation error');
  await w.context.clearCookies();
}

/** Pages reached from a link or by mistake: an invitation, errors, expired forms, the legal pages. */
export async function walkLandings(w: Walk) {
  const { server, page, audit } = w;
  const organization = await new OrganizationRepository(server.umbral.storage.db).create({
    name: 'Acme S.A.',
    slug: 'acme',
    activatesAt: new Date(Date.now() - 3600_000),
    homeClientId: 'portal',
  });
  const { token } = await new InvitationRepository(server.umbral.storage.db).invite({
    organizationId: organization.row.id,
    email: 'carla@example.com',
    roles: ['member'],
    invitedBy: null,
    withToken: true,
  });
  await page.goto(`${server.issuer}/invitations/${token}`);
  await audit(page, 'invitation');
  await page.goto(`${server.issuer}/invitations/not-a-token`);
  await audit(page, 'invitation invalid');
  await page.goto(`${server.issuer}/interaction/not-an-interaction`);
  await audit(page, 'expired interaction');
  await page.goto(`${server.issuer}/auth?client_id=nobody&response_type=code&scope=openid`);
  await audit(page, 'error page');
  await page.goto(`${server.issuer}/password/forgot`);
  await page.evaluate('document.querySelector("input[name=_csrf]").value = "stale"');
  await page.locator('form button.primary').click();
  await page.waitForLoadState();
  await audit(page, 'form expired');
  await page.goto(`${server.issuer}/unlock?token=not-a-token`);
  await audit(page, 'unlock link invalid');
  await page.goto(`${server.issuer}/legal/terms`);
  await audit(page, 'legal terms');
  await page.goto(`${server.issuer}/legal/privacy`);
  await audit(page, 'legal privacy');
}
