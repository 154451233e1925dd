import test from 'ava';
import * as oidc from 'openid-client';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { codeOf, linkOf, openSignUp, PASSWORD, REDIRECT, signUpFields, signUpWorlds } from './signup-fixture.ts';

const signUpWorld = signUpWorlds(test);

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] sign up from the login page, verify by code, and the portal gets the new account`,
    async (t) => {
      const world = await signUpWorld(kind);
      const { server, rp } = world;
      const browser = new HttpBrowser();

      const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as {
        prompt_values_supported: string[];
      };
      t.true(discovery.prompt_values_supported.includes('create'), 'prompt=create is advertised');

      const { request, identifier, page } = await openSignUp(world, browser);
      t.regex(identifier.body, /Crear cuenta/);
      t.is(page.status, 200);
      t.regex(page.body, /Crea tu cuenta/);
      for (const attribute of [
        'autocomplete="name"',
        'autocomplete="username"',
        'autocomplete="tel"',
        'autocomplete="new-password"',
        'name="_csrf"',
        'type="checkbox"',
      ]) {
        t.true(page.body.includes(attribute), attribute);
      }
      t.regex(page.body, /<option value="MX" selected>México \(\+52\)<\/option>/, 'Spanish preselects Mexico');
      t.regex(page.body, /href="\/legal\/terms"/);
      t.regex(page.body, /href="\/legal\/privacy"/);
      t.deepEqual(
        [...page.body.matchAll(/<script[^>]*>/g)].map((m) => m[0]),
        ['<script src="/assets/enhancements.js" defer>'],
        'only the show-password enhancement, nothing inline: the form works without it',
      );

      const verify = await browser.submit(page, '/signup', signUpFields({ email: 'Ana.Perez@Example.com' }), REDIRECT);
      const post = browser.history.find((p) => p.url.endsWith('/signup') && p.status !== 200)!;
      t.is(post.status, 303, '303 after the sign-up POST');
      t.is(verify.status, 200);
      t.regex(verify.body, /Revisa tu correo/);
      t.regex(verify.body, /Ana\.Perez@Example\.com/);
      t.regex(verify.body, /autocomplete="one-time-code"/);
      t.regex(verify.body, /inputmode="numeric"/);

      const user = await server.users.findByEmail('ana.perez@example.com');
      t.truthy(user);
      t.false(user!.email_verified);
      t.is(user!.phone, '+525512345678');
      t.is(user!.terms_version, '1');
      t.true(user!.terms_accepted_at instanceof Date);
      t.is(user!.locale, 'es');
      t.not(user!.password_hash, null);
      t.false(user!.password_hash!.includes(PASSWORD));
      const tokens = await server.umbral.storage.db.selectFrom('account_tokens').selectAll().execute();
      t.is(tokens.length, 1);

      const [mail] = await world.mailTo('Ana.Perez@Example.com');
      const code = codeOf(mail!);
      t.is(mail!.subject, `${code} es tu código · Confirma tu correo para Umbral`, 'the code in the subject');
      t.regex(code, /^\d{6}$/);
      t.true(linkOf(mail!).startsWith(`${server.issuer}/verify-email?token=`), 'the link is built from ISSUER');
      t.false(JSON.stringify(tokens).includes(code), 'the code is stored hashed');
      t.regex(String(mail!.html), /Hola, Ana Pérez/);

      const callback = await browser.submit(verify, '/verify', { code: code.replace(/(\d{3})/, '$1 ') }, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT), 'the authorization continues without asking the password again');
      const result = await rp.exchange(callback.url, request);
      const claims = result.claims()!;
      t.is(claims.sub, user!.id);
      t.deepEqual(claims.amr, ['pwd']);
      const userinfo = await oidc.fetchUserInfo(rp.config, result.access_token, user!.id);
      t.is(userinfo.email_verified, true);
      t.is(userinfo.phone_number, '+525512345678');
      t.is(userinfo.name, 'Ana Pérez');
      t.false(
        browser.cookieNames().some((name) => name.includes('verify') && !name.includes('link')),
        'the verification cookie is gone',
      );

      // The same code cannot be used twice; the account now signs in normally.
      const again = new HttpBrowser();
      const login = await rp.signIn(again, 'ana.perez@example.com', PASSWORD);
      t.true(login.callback.url.startsWith(REDIRECT));
    },
  );

  test.serial(
    `[${kind}] prompt=create opens sign-up; the emailed link, confirmed in the same browser, continues the sign-in`,
    async (t) => {
      const world = await signUpWorld(kind);
      const { server, rp } = world;
      const browser = new HttpBrowser({ 'accept-language': 'pt-BR,pt;q=0.9' });
      const request = await rp.authorizationRequest({ prompt: 'create', scope: 'openid email profile phone' });
      const page = await browser.open(request.url, REDIRECT);
      t.is(page.status, 200);
      t.regex(page.body, /Crie sua conta/);
      t.regex(page.body, /<option value="BR" selected>/, 'Portuguese preselects Brazil');
      t.regex(page.body, /href="\/interaction\/[^"]+\?step=identifier"/, 'a way to the login');

      const verify = await browser.submit(
        page,
        '/signup',
        signUpFields({ phone_country: 'BR', phone: '+55 11 91234-5678' }),
        REDIRECT,
      );
      t.regex(verify.body, /Confira seu e-mail/);
      const [mail] = await world.mailTo('ana@example.com');
      t.is(mail!.subject, `${codeOf(mail!)} é o seu código · Confirme seu e-mail para o Umbral`);

      const confirm = await browser.open(linkOf(mail!));
      t.is(confirm.status, 200);
      t.regex(confirm.body, /Confirmar meu e-mail/);
      t.false(
        (await server.users.findByEmail('ana@example.com'))!.email_verified,
        'opening the link (GET) verifies nothing',
      );

      const callback = await browser.submit(confirm, '/verify-email', {}, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT), 'the pending authorization continued');
      const result = await rp.exchange(callback.url, request);
      t.deepEqual(result.claims()!.amr, ['pwd']);
      const userinfo = await oidc.fetchUserInfo(rp.config, result.access_token, result.claims()!.sub);
      t.is(userinfo.email_verified, true);
      t.is(userinfo.phone_number, '+5511912345678');

      const reused = await browser.open(linkOf(mail!));
      t.regex(reused.body, /Conta verificada/, 'a used link says the account is verified');
    },
  );

  test.serial(
    `[${kind}] the link opened in another browser ends on "cuenta verificada", then a login works`,
    async (t) => {
      const world = await signUpWorld(kind, {}, { clientUri: 'https://portal.example.com/' });
      const { server, rp } = world;
      const browser = new HttpBrowser();
      const { page } = await openSignUp(world, browser);
      await browser.submit(page, '/signup', signUpFields(), REDIRECT);
      const [mail] = await world.mailTo('ana@example.com');

      const phone = new HttpBrowser();
      const confirm = await phone.open(linkOf(mail!));
      const done = await phone.submit(confirm, '/verify-email', {});
      t.is(done.status, 200);
      t.regex(done.body, /Cuenta verificada/);
      t.regex(done.body, /href="https:\/\/portal\.example\.com\/"[^>]*>Ir a Portal de Clientes/);
      t.true((await server.users.findByEmail('ana@example.com'))!.email_verified);

      const fresh = new HttpBrowser();
      const login = await rp.signIn(fresh, 'ana@example.com', PASSWORD);
      t.true(login.callback.url.startsWith(REDIRECT), 'a verified account signs in directly');
    },
  );

  test.serial(`[${kind}] an unverified account is held back at login and sent to the verification step`, async (t) => {
    const world = await signUpWorld(kind);
    const { server, rp } = world;
    const first = new HttpBrowser();
    const { page } = await openSignUp(world, first);
    await first.submit(page, '/signup', signUpFields(), REDIRECT);
    await world.mailTo('ana@example.com');
    // Later, a minute or more: the first email's code is forgotten.
    await server.umbral.storage.db
      .updateTable('account_tokens')
      .set({ created_at: new Date(Date.now() - 2 * 60_000) })
      .execute();

    const browser = new HttpBrowser({ 'accept-language': 'en' });
    const wrong = await rp.signIn(browser, 'ana@example.com', 'not the password at all');
    t.regex(wrong.callback.body, /incorrect|not correct/i, 'a wrong password is refused as usual');

    const { request, callback: held } = await rp.signIn(browser, 'ana@example.com', PASSWORD);
    t.false(held.url.startsWith(REDIRECT), 'no code for the portal yet');
    t.regex(held.body, /Your account is not verified yet/);
    const mails = await world.mailTo('ana@example.com', 2);
    t.is(mails[1]!.subject, `${codeOf(mails[1]!)} is your code · Confirm your email for Umbral`);
    const callback = await browser.submit(held, '/verify', { code: codeOf(mails[1]!) }, REDIRECT);
    t.true(callback.url.startsWith(REDIRECT));
    const result = await rp.exchange(callback.url, request);
    t.deepEqual(result.claims()!.amr, ['pwd']);
  });

  test.serial(
    `[${kind}] accounts added by operators sign in without verification; prompt=create lets them sign in instead`,
    async (t) => {
      const world = await signUpWorld(kind);
      await world.server.users.create({ email: 'beto@example.com', password: 'correct horse battery' });
      const login = await world.rp.signIn(new HttpBrowser(), 'beto@example.com', 'correct horse battery');
      t.true(login.callback.url.startsWith(REDIRECT));

      const browser = new HttpBrowser();
      const request = await world.rp.authorizationRequest({ prompt: 'create' });
      const signUpPage = await browser.open(request.url, REDIRECT);
      const href = /href="([^"]*\?step=identifier)"/.exec(signUpPage.body)![1]!;
      const identifier = await browser.open(new URL(href, signUpPage.url).href);
      const { passwordPage, next: callback } = await submitCredentials(
        browser,
        identifier,
        'beto@example.com',
        'correct horse battery',
        REDIRECT,
      );
      t.regex(passwordPage.body, /autocomplete="current-password"/);
      t.true(callback.url.startsWith(REDIRECT), 'a login answers prompt=create');
      t.truthy((await world.rp.exchange(callback.url, request)).id_token);
    },
  );
}

/** What Chromium sends with a form posted from a `Referrer-Policy: no-referrer` page of ours. */
const NO_REFERRER_POST = { origin: 'null', 'sec-fetch-site': 'same-origin' };

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] the verification link's token leaves the URL: a 303 to /verify-email, no-referrer, the sign-in goes on from a no-referrer POST, a replay is refused`,
    async (t) => {
      const world = await signUpWorld(kind);
      const { server, rp } = world;
      const browser = new HttpBrowser();
      const { page: signUp, request } = await openSignUp(world, browser);
      await browser.submit(signUp, '/signup', signUpFields(), REDIRECT);
      const [mail] = await world.mailTo('ana@example.com');
      const link = linkOf(mail!);
      const token = new URL(link).searchParams.get('token')!;

      const opened = await browser.request(link);
      t.is(opened.status, 303);
      t.is(opened.headers.get('location'), '/verify-email');
      t.is(opened.headers.get('referrer-policy'), 'no-referrer');
      const cookie = opened.headers.getSetCookie().find((line) => line.startsWith('umbral.verify-email-link='));
      t.regex(cookie ?? '', /; path=\/verify-email;.*; samesite=lax; httponly/i);

      const page = await browser.follow(opened);
      t.is(page.status, 200);
      t.is(page.url, `${server.issuer}/verify-email`, 'no token in the final URL');
      t.is(page.headers.get('referrer-policy'), 'no-referrer');
      t.regex(page.body, /<meta name="referrer" content="no-referrer">/);
      t.false(page.body.includes(token), 'the page does not repeat the token');
      t.false((await server.users.findByEmail('ana@example.com'))!.email_verified, 'opening verifies nothing');

      const url = `${server.issuer}/verify-email`;
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const stale = await browser.request(url, { form: { _csrf: 'x'.repeat(csrf.length) } });
      t.is(stale.status, 403);
      t.regex(stale.body, /href="\/verify-email"/, 'the retry link is the tokenless page');
      t.false(stale.body.includes(token));
      t.false((await server.users.findByEmail('ana@example.com'))!.email_verified);

      const confirmed = await browser.request(url, { form: { _csrf: csrf }, headers: NO_REFERRER_POST });
      t.is(confirmed.status, 303);
      t.regex(confirmed.headers.get('location')!, /^\/interaction\/[\w-]+$/, 'back to the sign-in in this browser');
      const callback = await browser.follow(confirmed, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT), 'the pending authorization continued');
      t.deepEqual((await rp.exchange(callback.url, request)).claims()!.amr, ['pwd']);
      t.true((await server.users.findByEmail('ana@example.com'))!.email_verified);

      const replayed = await browser.request(url, { form: { _csrf: csrf }, headers: NO_REFERRER_POST });
      t.is(replayed.status, 400, 'the form cannot be replayed');
      t.regex(replayed.body, /El enlace no es válido/);
      const reopened = await new HttpBrowser().open(link);
      t.regex(reopened.body, /Cuenta verificada/, 'a used link says the account is verified');
      t.false(reopened.url.includes(token));
    },
  );
}
