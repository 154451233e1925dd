import test from 'ava';
import { startMailbox } from '../password-reset/password-reset-mailbox.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { worldsPerFile } from '../support/worlds-per-file.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const ANA = 'ana@example.com';
const PASSWORD = 'correct horse battery';
const SPANISH = { 'accept-language': 'es-MX,es;q=0.9' };

const world = worldsPerFile(test, async (kind: (typeof JOURNEY_STORES)[number]) => {
  const store = await createTestStore(kind);
  const mailbox = await startMailbox();
  const server = await startUmbral(store, { SMTP_URL: mailbox.url });
  const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT], name: 'Portal' });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
  return {
    world: { server, rp, mailbox },
    async reset() {
      await server.umbral.storage.db.deleteFrom('users').execute();
      mailbox.received.length = 0;
      await server.users.create({ email: ANA, password: PASSWORD, emailVerified: true });
    },
    async close() {
      await server.stop();
      await mailbox.close();
      await store.cleanup();
    },
  };
});

/** The href of the footer's link to `code`, resolved against the page. */
function languageLink(page: Page, code: string): string {
  const href = new RegExp(`<a href="([^"]+)" lang="${code}"`).exec(page.body)?.[1];
  if (!href) throw new Error(`no ${code} link in the footer`);
  return new URL(href.replaceAll('&amp;', '&'), page.url).href;
}

async function storedLocale(server: RunningUmbral): Promise<string | null> {
  const row = await server.umbral.storage.db
    .selectFrom('users')
    .select('locale')
    .where('email', '=', ANA)
    .executeTakeFirstOrThrow();
  return row.locale;
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] the default terms and privacy pages answer in three languages`, async (t) => {
    const { server } = await world(kind);
    const cases = [
      { headers: SPANISH, query: '', terms: 'Términos del servicio', privacy: 'Aviso de privacidad', lang: 'es' },
      { headers: { 'accept-language': 'pt-BR' }, query: '', terms: 'Termos de Serviço', lang: 'pt-BR' },
      { headers: { 'accept-language': 'en-US' }, query: '', terms: 'Terms of Service', lang: 'en' },
      // The portal's ui_locales wins over Accept-Language on any page.
      { headers: SPANISH, query: '?ui_locales=en', terms: 'Terms of Service', privacy: 'Privacy Policy', lang: 'en' },
    ];
    for (const { headers, query, terms, privacy, lang } of cases) {
      const browser = new HttpBrowser(headers);
      const page = await browser.open(`${server.issuer}/legal/terms${query}`);
      t.is(page.status, 200, `${lang} terms`);
      t.regex(page.headers.get('content-type') ?? '', /text\/html/);
      t.true(page.body.includes(`<html lang="${lang}">`), lang);
      t.true(page.body.includes(`<h1>${terms}</h1>`), lang);
      t.true(page.body.includes('TERMS_URL'), 'it says how the operator replaces it');
      const policy = await browser.open(`${server.issuer}/legal/privacy${query}`);
      t.is(policy.status, 200, `${lang} privacy`);
      t.true(policy.body.includes('PRIVACY_URL'));
      if (privacy) t.true(policy.body.includes(`<h1>${privacy}</h1>`), lang);
    }
  });

  test.serial(`[${kind}] ui_locales=en reaches the logout page and the logged-out page after it`, async (t) => {
    const { server, rp } = await world(kind);
    const browser = new HttpBrowser(SPANISH);
    await rp.signIn(browser, ANA, PASSWORD);
    const logout = await browser.open(`${server.issuer}/session/end?client_id=portal&ui_locales=en`);
    t.is(logout.status, 200);
    t.true(logout.body.includes('<html lang="en">'));
    t.regex(logout.body, /Sign out\?/);
    // oidc-provider's logged-out page gets no ui_locales: the logout request's is carried to it.
    const done = await browser.submit(logout, '/session/end/confirm', { logout: 'yes' });
    t.is(new URL(done.url).pathname, '/session/end/success');
    t.regex(done.body, /You signed out/);
    // An error page (an unknown portal) speaks the request's ui_locales too.
    const error = await new HttpBrowser(SPANISH).open(`${server.issuer}/auth?client_id=nobody&ui_locales=pt-BR`);
    t.true(error.body.includes('<html lang="pt-BR">'), 'the error page');
  });

  test.serial(
    `[${kind}] the footer's switcher keeps the page's query, and the cookie outlasts ui_locales`,
    async (t) => {
      const { server } = await world(kind);
      const browser = new HttpBrowser(SPANISH);
      // An error page (an unknown portal): the switch must bring the same request back.
      const page = await browser.open(`${server.issuer}/auth?client_id=nobody&state=abc`);
      t.regex(page.body, /Algo salió mal/);
      t.regex(page.body, /<nav class="languages" aria-label="Idioma">/);
      t.regex(page.body, /<a href="[^"]*" lang="es" hreflang="es" aria-current="true">Español<\/a>/);
      const link = languageLink(page, 'en');
      t.is(new URL(link).searchParams.get('client_id'), 'nobody');
      t.is(new URL(link).searchParams.get('state'), 'abc');
      const redirect = await browser.request(link);
      t.is(redirect.status, 303, 'the choice is stored and the lang parameter dropped');
      t.is(redirect.headers.get('location'), '/auth?client_id=nobody&state=abc');
      t.regex((await browser.follow(redirect)).body, /Something went wrong/);
      const terms = await browser.open(`${server.issuer}/legal/terms?ui_locales=pt-BR`);
      t.true(terms.body.includes('<html lang="en">'), 'the person’s own choice wins over the portal’s ui_locales');
      const unknown = await browser.request(`${server.issuer}/legal/terms?lang=fr`);
      t.is(unknown.status, 303, 'an unknown language changes nothing');
      t.true((await browser.open(`${server.issuer}/legal/terms`)).body.includes('<html lang="en">'));
    },
  );

  test.serial(
    `[${kind}] a language chosen at sign-in becomes the account's, and its later email speaks it`,
    async (t) => {
      const { server, rp, mailbox } = await world(kind);
      const browser = new HttpBrowser(SPANISH);
      const request = await rp.authorizationRequest();
      const identifier = await browser.open(request.url, REDIRECT);
      t.true(identifier.body.includes('<html lang="es">'));
      const english = await browser.open(languageLink(identifier, 'en'), REDIRECT);
      t.true(english.body.includes('<html lang="en">'), 'the same sign-in page, now in English');
      const password = await browser.submit(english, '/identifier', { email: ANA }, REDIRECT);
      const callback = await browser.submit(password, '/password', { password: PASSWORD }, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT));
      t.is(await eventually(() => storedLocale(server), 'en'), 'en');

      // Signed in, a switch is stored at once.
      await browser.open(languageLink(await browser.open(`${server.issuer}/legal/privacy`), 'pt-BR'));
      t.is(await storedLocale(server), 'pt-BR');

      // A reset asked from another browser, in Spanish, is mailed in the account's language.
      const other = new HttpBrowser(SPANISH);
      const form = await other.open(`${server.issuer}/password/forgot`);
      t.true(form.body.includes('<html lang="es">'));
      await other.submit(form, '/password/forgot', { email: ANA });
      const [mail] = await mailbox.waitFor(ANA);
      t.regex(mail!.subject, /Redefin|senha/i, mail!.subject);
    },
  );
}

/** Polls `read` until it gives `expected` (an event handler writes it), for up to 2 s. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  const deadline = Date.now() + 2000;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}
