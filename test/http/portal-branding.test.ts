import test from 'ava';
import { ClientInputError } from '../../src/clients/client-registry.ts';
import { styleAttributeSource } from '../../src/http/page-branding.ts';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationInputError } from '../../src/organizations/organization-errors.ts';
import { parseLogoUri } from '../../src/organizations/organization-input.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { signUpFields } from '../interactions/signup-fixture.ts';
import { startSmtpServer, waitForMail } from '../notify/smtp-test-server.ts';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES, type StoreKind } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';
import { worldsPerFile } from '../support/worlds-per-file.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'luna llena sobre el volcán';
const BRAND = {
  name: 'Portal Ñandú',
  logoUri: 'https://cdn.nandu.example/logo.png',
  clientUri: 'https://nandu.example/',
  tosUri: 'https://nandu.example/terminos',
  policyUri: 'https://nandu.example/privacidad',
  brandColor: '#0b5cad',
};
/** Where the benefits portal starts its own sign-in (initiate_login_uri). */
const BENEFITS_SIGN_IN = 'https://beneficios.example/ingresar';
const SUPPORT = { SUPPORT_URL: 'https://ayuda.example.com/', SUPPORT_EMAIL: 'soporte@example.com' };

/** One Umbral per store with a branded third-party portal (so consent shows) and a plain one. */
const world = worldsPerFile(test, async (kind: StoreKind) => {
  const smtp = await startSmtpServer();
  const store = await createTestStore(kind);
  const server = await startUmbral(store, { SMTP_URL: smtp.url, ...SUPPORT });
  const branded = await server.registerClient({
    clientId: 'nandu',
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: ['http://127.0.0.1:9/bye'],
    firstParty: false,
    ...BRAND,
  });
  const plain = await server.registerClient({ clientId: 'plain', redirectUris: [REDIRECT], name: 'Portal Simple' });
  const starting = await server.registerClient({
    clientId: 'beneficios',
    redirectUris: [REDIRECT],
    name: 'Portal de Beneficios',
    initiateLoginUri: BENEFITS_SIGN_IN,
  });
  await server.users.create({ email: 'ana@example.com', password: PASSWORD, name: 'Ana Pérez', emailVerified: true });
  return {
    world: {
      server,
      mailTo: (to: string) => waitForMail(smtp, to, 1, 10_000),
      brandedRp: await RelyingParty.discover(server.issuer, 'nandu', branded.client_secret, REDIRECT),
      plainRp: await RelyingParty.discover(server.issuer, 'plain', plain.client_secret, REDIRECT),
      benefitsRp: await RelyingParty.discover(server.issuer, 'beneficios', starting.client_secret, REDIRECT),
    },
    async reset() {
      await server.umbral.mailer.drain();
      smtp.forget();
    },
    async close() {
      await server.stop();
      await store.cleanup();
      await smtp.close();
    },
  };
});

/** Every mark of the portal's branding on a page: header, colour (allowed by the CSP), footer links. */
function assertBranded(t: import('ava').ExecutionContext, page: Page, where: string): void {
  t.is(page.status < 500, true, where);
  t.regex(page.body, /<span class="product">Portal Ñandú<\/span>/, `${where}: the portal's name in the header`);
  t.true(
    page.body.includes(`<img src="${BRAND.logoUri}" alt="Logotipo de Portal Ñandú"`),
    `${where}: the portal's logo, with an alt text`,
  );
  const style = '--brand: #0b5cad; --brand-text: #fff';
  t.true(page.body.includes(`<body style="${style}">`), `${where}: the colour on <body>`);
  t.true(page.headers.get('content-security-policy')!.includes(styleAttributeSource(style)), `${where}: CSP allows it`);
  t.true(page.body.includes(`href="${BRAND.tosUri}"`), `${where}: the portal's terms`);
  t.true(page.body.includes(`href="${BRAND.policyUri}"`), `${where}: the portal's privacy policy`);
  assertSupport(t, page, where);
}

function assertSupport(t: import('ava').ExecutionContext, page: Page, where: string): void {
  t.true(page.body.includes(`href="${SUPPORT.SUPPORT_URL}"`), `${where}: the support page`);
  t.true(page.body.includes(`href="mailto:${SUPPORT.SUPPORT_EMAIL}"`), `${where}: the support address`);
  t.true(page.body.includes('class="languages"'), `${where}: the language switcher stays`);
}

function linkIn(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  if (!match) throw new Error(`no link ${pattern} in: ${text}`);
  return match[1]!;
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] sign-in, consent and logout pages carry the portal's branding`, async (t) => {
    const { server, brandedRp } = await world(kind);
    const browser = new HttpBrowser({ 'accept-language': 'es' });
    const request = await brandedRp.authorizationRequest();
    const identifier = await browser.open(request.url, REDIRECT);
    assertBranded(t, identifier, 'identifier step');
    const { passwordPage, next: consent } = await submitCredentials(
      browser,
      identifier,
      'ana@example.com',
      PASSWORD,
      REDIRECT,
    );
    assertBranded(t, passwordPage, 'password step');
    t.true(consent.body.includes('/consent'), 'a third-party portal asks for consent');
    assertBranded(t, consent, 'consent');
    t.regex(consent.body, /Sesión iniciada como <span class="identity-email">ana@example\.com<\/span>/, 'the account');
    t.regex(consent.body, /Sitio: nandu\.example/, "the portal's domain");
    t.regex(passwordPage.body, /para continuar en Portal Ñandú/, "the password step keeps the portal's name");
    const callback = await browser.submit(consent, '/consent', {}, REDIRECT);
    t.true(callback.url.startsWith(REDIRECT));

    const logout = await browser.open(`${server.issuer}/session/end?client_id=nandu`);
    assertBranded(t, logout, 'logout confirmation');
    // Signing out of this portal only: oidc-provider forwards its client_id to the logged-out page.
    const loggedOut = await browser.submit(logout, '/session/end/confirm', {});
    t.true(loggedOut.url.includes('/session/end/success?client_id=nandu'));
    assertBranded(t, loggedOut, 'logged out');
  });

  test.serial(`[${kind}] sign-up, verification and reset pages carry the portal's branding`, async (t) => {
    const { server, brandedRp, mailTo } = await world(kind);
    const browser = new HttpBrowser({ 'accept-language': 'es' });
    const request = await brandedRp.authorizationRequest({ prompt: 'create' });
    const signUp = await browser.open(request.url, REDIRECT);
    t.true(signUp.body.includes('/signup'), 'prompt=create opens the sign-up');
    assertBranded(t, signUp, 'sign-up');
    const email = `bea.${kind}@example.com`;
    const check = await browser.submit(signUp, '/signup', signUpFields({ name: 'Bea Ruiz', email }), REDIRECT);
    assertBranded(t, check, 'check your email (code)');
    const [mail] = await mailTo(email);
    const link = linkIn(mail!.text ?? '', /^(http\S+\/verify-email\?token=\S+)$/m);
    const elsewhere = new HttpBrowser({ 'accept-language': 'es' });
    const verifyLink = await elsewhere.open(link);
    assertBranded(t, verifyLink, 'verification link');
    const done = await elsewhere.submit(verifyLink, '/verify-email', {});
    assertBranded(t, done, 'verified elsewhere');

    // Forgot password, from the password step of a sign-in to the portal.
    const again = new HttpBrowser({ 'accept-language': 'es' });
    const identifier = await again.open((await brandedRp.authorizationRequest()).url, REDIRECT);
    const passwordPage = await again.submit(identifier, '/identifier', { email: 'ana@example.com' });
    const forgot = await again.open(
      new URL(linkIn(passwordPage.body, /href="(\/interaction\/[\w-]+\/forgot)"/), passwordPage.url).href,
    );
    assertBranded(t, forgot, 'forgot password');
    const sent = await again.submit(forgot, '/forgot', { email: 'ana@example.com' });
    assertBranded(t, sent, 'reset link sent');
    const [resetMail] = await mailTo('ana@example.com');
    const resetPage = await again.open(linkIn(resetMail!.text ?? '', /(\S+\/password\/reset\?token=[\w-]+)/));
    assertBranded(t, resetPage, 'reset form');
    const mismatch = await again.submit(resetPage, '/password/reset', {
      password: PASSWORD,
      password_confirmation: 'otra cosa distinta',
    });
    assertBranded(t, mismatch, 'reset form with an error');
    t.truthy(server);
  });

  test.serial(
    `[${kind}] an unbranded portal and Umbral's own pages show Umbral, with the support footer`,
    async (t) => {
      const { server, plainRp } = await world(kind);
      const browser = new HttpBrowser({ 'accept-language': 'es' });
      const identifier = await browser.open((await plainRp.authorizationRequest()).url, REDIRECT);
      t.regex(identifier.body, /<span class="product">Portal Simple<\/span>/, 'its client_name still heads its pages');
      t.true(identifier.body.includes('<img src="/assets/logo.svg" alt=""'), "Umbral's logo, decorative");
      t.true(identifier.body.includes('<body>'), 'no colour of its own');
      t.is(identifier.headers.get('content-security-policy')!.includes('unsafe-hashes'), false);
      t.false(identifier.body.includes('nandu.example'));
      assertSupport(t, identifier, 'plain portal');

      const standalone = await browser.open(`${server.issuer}/password/forgot`);
      t.regex(standalone.body, /<span class="product">Umbral<\/span>/);
      assertSupport(t, standalone, 'a page of no portal');
    },
  );

  test.serial(
    `[${kind}] registration refuses colours too light for white text and URLs that are not https`,
    async (t) => {
      const { server } = await world(kind);
      const register = (id: string, extra: Record<string, string>) =>
        server.registerClient({ clientId: id, redirectUris: [REDIRECT], ...extra });
      const light = await t.throwsAsync(register('amarillo', { brandColor: '#ffff00' }), {
        instanceOf: ClientInputError,
      });
      t.regex(light.message, /brand_color #ffff00 is too light.*1\.07:1.*4\.5:1/);
      await t.throwsAsync(register('rojo', { brandColor: 'red' }), { message: /#RRGGBB/ });
      await t.throwsAsync(register('corto', { brandColor: '#05a' }), { message: /#RRGGBB/ });
      await t.throwsAsync(register('plano', { logoUri: 'http://cdn.example/logo.png' }), {
        message: /^logo_uri must be an https URL/,
      });
      await t.throwsAsync(register('script', { tosUri: 'javascript:alert(1)' }), {
        message: /^tos_uri must be an https URL/,
      });
      await t.throwsAsync(register('ftp', { policyUri: 'ftp://example.com/p' }), { message: /^policy_uri/ });
      await t.throwsAsync(register('home', { clientUri: 'http://example.com/' }), { message: /^client_uri/ });
      const local = await register('local', { logoUri: 'http://127.0.0.1:8080/logo.png', brandColor: '#767676' });
      t.is(local['logo_uri'], 'http://127.0.0.1:8080/logo.png', 'http on loopback, as for redirect URIs');
      t.is(local['brand_color'], '#767676', '4.54:1 is enough');
      const names = (await server.clients.list()).map((c) => c['client_id']);
      t.false(names.includes('amarillo'), 'nothing stored for a refused portal');
    },
  );
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] the verification link verifies and lands on the portal's sign-in; GET alone verifies nobody`,
    async (t) => {
      const { server, benefitsRp, mailTo } = await world(kind);
      const browser = new HttpBrowser({ 'accept-language': 'es' });
      const signUp = await browser.open((await benefitsRp.authorizationRequest({ prompt: 'create' })).url, REDIRECT);
      const email = `carla.${kind}@example.com`;
      await browser.submit(signUp, '/signup', signUpFields({ name: 'Carla Díaz', email }), REDIRECT);
      const [mail] = await mailTo(email);
      const link = linkIn(mail!.text ?? '', /^(http\S+\/verify-email\?token=\S+)$/m);

      // A mail scanner fetches the link (and the page it redirects to): nobody is verified.
      const scanner = new HttpBrowser();
      const scanned = await scanner.open(link);
      t.regex(scanned.body, /data-auto-submit/, 'with JavaScript the confirmation submits itself');
      t.regex(scanned.body, /<script src="\/assets\/enhancements.js" defer><\/script>/);
      t.false((await server.users.findByEmail(email))!.email_verified, 'GET verifies nobody');

      // The person, on another device: the one button (or the script) verifies and goes to the portal's sign-in.
      const elsewhere = new HttpBrowser({ 'accept-language': 'es' });
      const confirm = await elsewhere.open(link);
      const landed = await elsewhere.submit(confirm, '/verify-email', {}, BENEFITS_SIGN_IN);
      t.is(landed.url, BENEFITS_SIGN_IN);
      t.true((await server.users.findByEmail(email))!.email_verified);
    },
  );

  test.serial(
    `[${kind}] no dead ends: expired, error and logged-out pages lead back to the portal; an oversized form says so`,
    async (t) => {
      const { server, brandedRp, benefitsRp } = await world(kind);
      const browser = new HttpBrowser({ 'accept-language': 'es' });
      const identifier = await browser.open((await benefitsRp.authorizationRequest()).url, REDIRECT);
      const back = `<a class="button primary" href="${BENEFITS_SIGN_IN}">Volver a Portal de Beneficios</a>`;

      // The back button after the sign-in ended, on a page that no longer knows its portal.
      const expired = await browser.open(`${server.issuer}/interaction/an-old-sign-in`);
      t.is(expired.status, 400);
      t.true(expired.body.includes(back), 'the expired sign-in offers the way back to the portal it came from');
      const error = await browser.open(`${server.issuer}/auth?client_id=nobody&response_type=code&scope=openid`);
      t.true(error.body.includes(back), 'so does an error page');
      const loggedOut = await browser.open(`${server.issuer}/session/end`);
      const done = await browser.submit(loggedOut, '/session/end/confirm', { logout: 'yes' });
      t.regex(done.body, /Cerraste sesión/);
      t.true(done.body.includes(back), 'and the logged-out page');

      // A portal's own pages lead to its home (client_uri, without an initiate_login_uri).
      const branded = new HttpBrowser({ 'accept-language': 'es' });
      await branded.open((await brandedRp.authorizationRequest()).url, REDIRECT);
      const gone = await branded.open(`${server.issuer}/interaction/an-old-sign-in`);
      t.true(gone.body.includes(`href="${BRAND.clientUri}">Volver a Portal Ñandú</a>`));
      const stranger = await new HttpBrowser({ 'accept-language': 'es' }).open(`${server.issuer}/interaction/x`);
      t.false(stranger.body.includes('Volver a'), 'a browser that came from no portal gets no made-up link');

      // An empty password is not a wrong one: "Escribe tu contraseña", the portal still named.
      const fresh = new HttpBrowser({ 'accept-language': 'es' });
      const start = await fresh.open((await benefitsRp.authorizationRequest()).url, REDIRECT);
      const passwordStep = await fresh.submit(start, '/identifier', { email: 'ana@example.com' });
      const empty = await fresh.submit(passwordStep, '/password', { password: '' });
      t.regex(empty.body, /id="password-error" class="error" role="alert">Escribe tu contraseña\.</);
      t.notRegex(empty.body, /no son correctos/);
      t.regex(empty.body, /para continuar en Portal de Beneficios/);

      // An oversized form: said as such, and nothing happens.
      const huge = await browser.submit(identifier, '/identifier', { email: `${'a'.repeat(20_000)}@example.com` });
      t.is(huge.status, 413);
      t.regex(huge.body, /El formulario que enviaste es demasiado grande/);
      t.notRegex(huge.body, /La aplicación envió/);
    },
  );
}

test("an organization's logo must be https (http on loopback only)", (t) => {
  t.is(parseLogoUri(' https://acme.example/logo.svg '), 'https://acme.example/logo.svg');
  t.is(parseLogoUri('http://127.0.0.1:8080/logo.png'), 'http://127.0.0.1:8080/logo.png');
  for (const bad of ['http://acme.example/logo.png', 'javascript:alert(1)', 'logo.png', ''])
    t.throws(() => parseLogoUri(bad), {
      instanceOf: OrganizationInputError,
      message: /^--logo-uri must be an https URL/,
    });
});

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] an organization's own logo replaces the portal's on its invitation pages`, async (t) => {
    const { server } = await world(kind);
    const db = server.umbral.storage.db;
    const organization = await new OrganizationRepository(db).create({
      name: 'Acme S.A.',
      slug: `acme-logo-${kind}`,
      activatesAt: new Date(Date.now() - 3600_000),
      homeClientId: 'nandu',
      logoUri: 'https://acme.example/logo.svg',
    });
    const invite = (email: string) =>
      new InvitationRepository(db).invite({
        organizationId: organization.row.id,
        email,
        roles: ['member'],
        invitedBy: null,
        withToken: true,
      });
    const { token } = await invite(`dora.${kind}@example.com`);
    const page = await new HttpBrowser({ 'accept-language': 'es' }).open(`${server.issuer}/invitations/${token}`);
    t.is(page.status, 200);
    t.true(page.body.includes('<img src="https://acme.example/logo.svg" alt="Logotipo de Acme S.A."'), 'its logo');
    t.false(page.body.includes(BRAND.logoUri), "not the portal's");
    t.regex(page.body, /<span class="product">Portal Ñandú<\/span>/, "the home portal's name and colour stay");
    t.true(page.body.includes('<body style="--brand: #0b5cad; --brand-text: #fff">'));

    await new OrganizationRepository(db).update(organization.row.id, { logoUri: null });
    const { token: second } = await invite(`eli.${kind}@example.com`);
    const plain = await new HttpBrowser({ 'accept-language': 'es' }).open(`${server.issuer}/invitations/${second}`);
    t.true(
      plain.body.includes(`<img src="${BRAND.logoUri}" alt="Logotipo de Portal Ñandú"`),
      "without one, the portal's",
    );
  });
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] in a sign-in for an organization, the pages after it is decided show its logo, as does its console`,
    async (t) => {
      const { server } = await world(kind);
      const db = server.umbral.storage.db;
      const portal = await server.registerClient({
        clientId: 'nandu-empresas',
        redirectUris: [REDIRECT],
        firstParty: false,
        organization: 'required',
        ...BRAND,
      });
      const rp = await RelyingParty.discover(server.issuer, 'nandu-empresas', portal.client_secret, REDIRECT);
      const organization = await new OrganizationRepository(db).create({
        name: 'Bosque SpA',
        slug: `bosque-${kind}`,
        activatesAt: new Date(Date.now() - 3600_000),
        logoUri: 'https://bosque.example/logo.svg',
      });
      const ana = (await server.users.findByEmail('ana@example.com'))!;
      await new MembershipRepository(db).join({
        organizationId: organization.row.id,
        userId: ana.id,
        roles: ['admin', 'member'],
        invitedBy: 'operator',
      });
      const orgLogo = '<img src="https://bosque.example/logo.svg" alt="Logotipo de Bosque SpA"';
      const browser = new HttpBrowser({ 'accept-language': 'es' });
      const identifier = await browser.open((await rp.authorizationRequest()).url, REDIRECT);
      t.false(identifier.body.includes(orgLogo), 'before the organization is known: the portal’s');
      const { next: consent } = await submitCredentials(browser, identifier, 'ana@example.com', PASSWORD, REDIRECT);
      t.true(consent.body.includes('/consent'), 'her only organization, decided: consent next');
      t.true(consent.body.includes(orgLogo), "consent shows the organization's logo");
      t.false(consent.body.includes(BRAND.logoUri), "instead of the portal's");
      t.regex(consent.body, /<span class="product">Portal Ñandú<\/span>/, "the portal's name stays");
      const callback = await browser.submit(consent, '/consent', {}, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT));

      const console = await browser.open(`${server.issuer}/org?org=bosque-${kind}`);
      t.is(console.status, 200);
      t.true(console.body.includes(orgLogo), "the company console shows the organization's logo");

      // An organization that requires a second factor, for a member without one: the enrolment it
      // demands comes after the organization is decided, and shows its logo.
      await new OrganizationRepository(db).update(organization.row.id, { requireMfa: true });
      const caro = await server.users.create({
        email: `caro.${kind}@example.com`,
        password: PASSWORD,
        emailVerified: true,
      });
      await new MembershipRepository(db).join({
        organizationId: organization.row.id,
        userId: caro.id,
        roles: ['member'],
        invitedBy: 'operator',
      });
      const second = new HttpBrowser({ 'accept-language': 'es' });
      const start = await second.open((await rp.authorizationRequest()).url, REDIRECT);
      const { next: enrolment } = await submitCredentials(second, start, caro.email, PASSWORD, REDIRECT);
      t.regex(enrolment.body, /<h1>Protege tu cuenta con un segundo paso<\/h1>/);
      t.true(enrolment.body.includes(orgLogo), "the organization's second factor shows its logo");
      t.false(enrolment.body.includes(BRAND.logoUri));
    },
  );
}
