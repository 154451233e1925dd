import test from 'ava';
import { verifyPassword } from '../../src/users/password-hasher.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import type { RunningUmbral } from '../support/umbral-server.ts';
import { accountWorlds, linkIn, mailsTo, openAccount, PASSWORD } from './account-fixture.ts';

const accountWorld = accountWorlds(test);

/** Makes the user's browser sessions look signed in `seconds` ago. */
async function ageSignIn(server: RunningUmbral, userId: string, seconds: number): Promise<void> {
  await server.umbral.storage.db
    .updateTable('oidc_models')
    .set((eb) => ({
      payload: eb.fn('jsonb_set', [
        eb.ref('payload'),
        eb.val('{loginTs}'),
        eb.val(String(Math.floor(Date.now() / 1000) - seconds)),
      ]) as never,
    }))
    .where('model', '=', 'Session')
    .where('account_id', '=', userId)
    .execute();
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] /account signs in through Umbral's own login, then edits the profile`, async (t) => {
    const { server, user } = await accountWorld(kind);
    const browser = new HttpBrowser({ 'accept-language': 'es-MX' });

    const first = await browser.request(`${server.issuer}/account`);
    t.is(first.status, 303);
    const authorize = new URL(first.headers.get('location')!, server.issuer);
    t.is(authorize.pathname, '/auth');
    t.is(authorize.searchParams.get('client_id'), 'umbral-account');
    t.is(authorize.searchParams.get('code_challenge_method'), 'S256');

    const page = await openAccount(server, browser, '/account', 'ana@example.com', PASSWORD);
    t.is(page.status, 200);
    t.regex(page.body, /Tu cuenta/);
    t.regex(page.body, /Sesión iniciada como ana@example\.com/);
    t.regex(page.body, /value="Ana Pérez"/);
    t.regex(page.body, /autocomplete="name"/);
    t.regex(page.body, /autocomplete="tel"/);

    // Bad phone: a field error in Spanish, the typed values kept, nothing saved.
    const refused = await browser.submit(page, '/account/profile', {
      name: 'Ana María',
      phone: '12',
      phone_country: 'MX',
    });
    t.is(refused.status, 400);
    t.regex(refused.body, /aria-invalid="true"/);
    t.regex(refused.body, /value="Ana María"/);
    t.is((await server.users.findById(user.id))!.name, 'Ana Pérez');

    const saved = await browser.submit(page, '/account/profile', {
      name: 'Ana María Pérez',
      phone: '55 1234 5678',
      phone_country: 'MX',
    });
    t.is(saved.status, 200);
    t.regex(saved.body, /Guardamos tus datos/);
    const updated = (await server.users.findById(user.id))!;
    t.is(updated.name, 'Ana María Pérez');
    t.is(updated.phone, '+525512345678');
    t.false(updated.phone_verified);

    // A form without the CSRF token is refused and changes nothing.
    const forged = await browser.request(`${server.issuer}/account/profile`, { form: { name: 'Mallory', phone: '' } });
    t.is(forged.status, 403);
    t.is((await server.users.findById(user.id))!.name, 'Ana María Pérez');
  });

  test.serial(
    `[${kind}] changing the phone needs a recent sign-in; the owner is told what changed, the phone masked`,
    async (t) => {
      const { server, user } = await accountWorld(kind);
      await server.users.updateProfile(user.id, { name: 'Ana Pérez', phone: '+525512345678' });
      const browser = new HttpBrowser({ 'accept-language': 'es' });
      const page = await openAccount(server, browser, '/account', 'ana@example.com', PASSWORD);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const postProfile = (phone: string) =>
        browser.request(`${server.issuer}/account/profile`, {
          form: { _csrf: csrf, name: 'Ana Pérez', phone, phone_country: 'MX' },
        });

      // Signed in hours ago: the form is sent to sign in again, and nothing changes.
      await ageSignIn(server, user.id, 3 * 60 * 60);
      const stale = await postProfile('55 8765 4321');
      t.is(stale.status, 303);
      t.is(stale.headers.get('location'), '/account/profile');
      const reauth = await browser.request(`${server.issuer}/account/profile`);
      t.is(reauth.status, 303);
      const authorize = new URL(reauth.headers.get('location')!, server.issuer);
      t.is(authorize.pathname, '/auth');
      t.is(authorize.searchParams.get('prompt'), 'login');
      t.is(authorize.searchParams.get('login_hint'), 'ana@example.com');
      t.is((await server.users.findById(user.id))!.phone, '+525512345678', 'nothing changed');
      t.is((await mailsTo(server, 'ana@example.com')).filter((m) => m.template === 'profile-changed').length, 0);

      // After signing in again it comes back to the account page, and the change goes through.
      const back = await openAccount(server, browser, '/account/profile', 'ana@example.com', PASSWORD);
      t.is(back.status, 200);
      t.true(back.url.endsWith('/account'));
      const freshCsrf = /name="_csrf" value="([^"]+)"/.exec(back.body)![1]!;
      const saved = await browser.request(`${server.issuer}/account/profile`, {
        form: { _csrf: freshCsrf, name: 'Ana Pérez', phone: '55 8765 4321', phone_country: 'MX' },
      });
      t.is(saved.status, 303);
      t.is(saved.headers.get('location'), '/account?saved=profile');
      t.is((await server.users.findById(user.id))!.phone, '+525587654321');

      await (server.umbral.mailer as unknown as { drain(ms?: number): Promise<void> }).drain(15_000);
      const notices = (await mailsTo(server, 'ana@example.com')).filter((m) => m.template === 'profile-changed');
      t.is(notices.length, 1);
      const notice = notices[0]!;
      t.regex(notice.subject ?? '', /Umbral: se cambiaron los datos de tu cuenta/);
      const text = notice.text_body ?? '';
      t.regex(text, /el teléfono, que ahora es \+52•+4321/);
      t.notRegex(text, /el nombre/, 'the name did not change');
      t.false(text.includes('5587654321'), 'the phone is masked');
      t.false(text.includes('5512345678'), 'nor is the old one shown');
      t.regex(text, /\d{4}/, 'when: the date is in it');
      t.false(/token=|code=|_csrf/.test(`${text} ${notice.html_body ?? ''}`), 'no secret in it');
      t.true(text.includes(`${server.issuer}/account`));
    },
  );

  test.serial(`[${kind}] the account callback refuses a code that is not this browser's`, async (t) => {
    const { server } = await accountWorld(kind);
    const browser = new HttpBrowser();
    const noCookie = await browser.request(`${server.issuer}/account/callback?code=abc&state=xyz`);
    t.is(noCookie.status, 400);
    t.regex(noCookie.body, /No pudimos completar el inicio de sesión/);

    // A sign-in started here but answered with a forged code: refused, and no redirect loop.
    const started = await browser.request(`${server.issuer}/account`);
    const state = new URL(started.headers.get('location')!, server.issuer).searchParams.get('state')!;
    const forged = await browser.request(`${server.issuer}/account/callback?code=${'A'.repeat(43)}&state=${state}`);
    t.is(forged.status, 400);
  });

  test.serial(`[${kind}] changing the password: current one required, others signed out, owner told`, async (t) => {
    const { server, rp, receiver, user } = await accountWorld(kind);
    // Another device, signed in to the portal with a refresh token.
    const laptop = new HttpBrowser();
    const other = await rp.signIn(laptop, 'ana@example.com', PASSWORD);
    const otherTokens = await rp.exchange(other.callback.url, other.request);

    const phone = new HttpBrowser({ 'accept-language': 'es' });
    const form = await openAccount(server, phone, '/account/password', 'ana@example.com', PASSWORD);
    t.is(form.status, 200);
    t.regex(form.body, /autocomplete="current-password"/);
    t.regex(form.body, /autocomplete="new-password"/);

    const wrong = await phone.submit(form, '/account/password', {
      current_password: 'not my password',
      password: 'luna nueva sobre el mar',
      password_confirmation: 'luna nueva sobre el mar',
    });
    t.is(wrong.status, 400);
    t.regex(wrong.body, /La contraseña actual no es correcta/);
    const mismatch = await phone.submit(form, '/account/password', {
      current_password: PASSWORD,
      password: 'luna nueva sobre el mar',
      password_confirmation: 'luna nueva sobre el rio',
    });
    t.is(mismatch.status, 400);
    const common = await phone.submit(form, '/account/password', {
      current_password: PASSWORD,
      password: 'password123',
      password_confirmation: 'password123',
    });
    t.is(common.status, 400);
    t.true(
      await verifyPassword((await server.users.findById(user.id))!.password_hash, PASSWORD),
      'refusals change nothing',
    );
    t.is(receiver.tokens.length, 0);

    const post = await phone.request(new URL('/account/password', server.issuer).href, {
      form: {
        _csrf: /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!,
        current_password: PASSWORD,
        password: 'luna nueva sobre el mar',
        password_confirmation: 'luna nueva sobre el mar',
      },
    });
    t.is(post.status, 303);
    t.is(post.headers.get('location'), '/account?saved=password');
    t.true(await verifyPassword((await server.users.findById(user.id))!.password_hash, 'luna nueva sobre el mar'));

    // The laptop's session ended: its portal heard it, and its refresh token no longer works.
    await receiver.waitFor(1);
    await t.throwsAsync(rp.refresh(otherTokens.refresh_token!));
    // This browser stays signed in.
    t.is((await phone.open(`${server.issuer}/account`)).status, 200);
    const notices = await mailsTo(server, 'ana@example.com');
    t.true(notices.some((m) => m.template === 'password-changed'));
    // The laptop is told why on its next visit.
    const back = await laptop.open((await rp.authorizationRequest()).url, rp.redirectUri);
    t.regex(back.body, /Se cerró tu sesión porque se cambió la contraseña de la cuenta/);
  });

  test.serial(`[${kind}] changing the email: recent sign-in, link to the new address, notice to the old`, async (t) => {
    const { server, rp, user } = await accountWorld(kind);
    await server.users.create({ email: 'taken@example.com', password: 'otra clave larga y buena' });
    const browser = new HttpBrowser({ 'accept-language': 'es' });
    await openAccount(server, browser, '/account', 'ana@example.com', PASSWORD);

    // A sign-in older than five minutes must be renewed first.
    await ageSignIn(server, user.id, 600);
    const stale = await browser.request(`${server.issuer}/account/email`);
    const reauth = new URL(stale.headers.get('location')!, server.issuer);
    t.is(reauth.searchParams.get('prompt'), 'login');
    t.is(reauth.searchParams.get('login_hint'), 'ana@example.com');
    const form = await openAccount(server, browser, '/account/email', 'ana@example.com', PASSWORD);
    t.regex(form.body, /Correo electrónico nuevo/);

    const invalid = await browser.submit(form, '/account/email', { email: 'not-an-email' });
    t.is(invalid.status, 400);
    const same = await browser.submit(form, '/account/email', { email: 'ANA@example.com' });
    t.is(same.status, 400);

    // An address with an account: same answer, but nothing sent to it.
    const takenPage = await browser.submit(form, '/account/email', { email: 'taken@example.com' });
    t.is(takenPage.status, 200);
    t.regex(takenPage.body, /Si taken@example\.com puede usarse/);
    t.is((await mailsTo(server, 'taken@example.com')).length, 0);

    const sent = await browser.submit(form, '/account/email', { email: 'ana.nueva@example.com' });
    t.regex(sent.body, /Si ana\.nueva@example\.com puede usarse/);
    const [confirmMail] = await mailsTo(server, 'ana.nueva@example.com');
    t.is(confirmMail!.template, 'email-change-confirm');
    const confirmUrl = linkIn(confirmMail!, server.issuer, '/account/email/confirm?token=');
    if (!confirmUrl) return t.fail('no confirmation link in the mail');
    t.true((await mailsTo(server, 'ana@example.com')).some((m) => m.template === 'email-change-requested'));

    // Opening the link changes nothing (mail scanners open links); the button does, from any browser.
    // The first GET moves the token out of the URL, into a cookie of the confirmation page.
    const token = new URL(confirmUrl).searchParams.get('token')!;
    const elsewhere = new HttpBrowser({ 'accept-language': 'es' });
    const opened = await elsewhere.request(confirmUrl);
    t.is(opened.status, 303);
    t.is(opened.headers.get('location'), '/account/email/confirm');
    t.is(opened.headers.get('referrer-policy'), 'no-referrer');
    const cookie = opened.headers.getSetCookie().find((line) => line.startsWith('umbral.email-change-link='));
    t.regex(cookie ?? '', /; path=\/account\/email\/confirm;.*; samesite=lax; httponly/i);
    const confirmPage = await elsewhere.follow(opened);
    t.is(confirmPage.status, 200);
    t.is(confirmPage.url, `${server.issuer}/account/email/confirm`, 'no token in the final URL');
    t.is(confirmPage.headers.get('referrer-policy'), 'no-referrer');
    t.regex(confirmPage.body, /<meta name="referrer" content="no-referrer">/);
    t.false(confirmPage.body.includes(token), 'the page does not repeat the token');
    t.is((await server.users.findById(user.id))!.email, 'ana@example.com');
    // As Chromium posts it from a no-referrer page: Origin null, Sec-Fetch-Site same-origin.
    const csrf = /name="_csrf" value="([^"]+)"/.exec(confirmPage.body)![1]!;
    const confirm = () =>
      elsewhere.request(confirmPage.url, {
        form: { _csrf: csrf },
        headers: { origin: 'null', 'sec-fetch-site': 'same-origin' },
      });
    const crossSite = await elsewhere.request(confirmPage.url, {
      form: { _csrf: csrf },
      headers: { origin: 'null', 'sec-fetch-site': 'cross-site' },
    });
    t.is(crossSite.status, 403, 'a null Origin from another site is refused');
    t.is((await server.users.findById(user.id))!.email, 'ana@example.com');
    const done = await confirm();
    t.is(done.status, 200);
    t.regex(done.body, /Desde ahora inicias sesión con ana\.nueva@example\.com/);
    const changed = (await server.users.findById(user.id))!;
    t.is(changed.email, 'ana.nueva@example.com');
    t.true(changed.email_verified);

    const reused = await confirm();
    t.is(reused.status, 400);
    t.regex(reused.body, /Este enlace ya no sirve/);
    const replayed = await new HttpBrowser().open(confirmUrl);
    t.is(replayed.status, 400, 'a replayed link is refused');
    t.is(replayed.url, `${server.issuer}/account/email/confirm`);
    t.regex(replayed.body, /Este enlace ya no sirve/);

    // The new address signs in; the old one no longer does.
    const fresh = new HttpBrowser();
    const signIn = await rp.signIn(fresh, 'ana.nueva@example.com', PASSWORD);
    t.is((await rp.exchange(signIn.callback.url, signIn.request)).claims()!.sub, user.id);
    const old = await rp.signIn(new HttpBrowser(), 'ana@example.com', PASSWORD);
    t.regex(old.callback.url, /error=credentials/);
  });
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a stored number shows its own country; times in the person's zone on the sessions list and in an email`,
    async (t) => {
      const { server, user } = await accountWorld(kind);
      await server.users.updateProfile(user.id, { name: 'Ana Pérez', phone: '+5491123456789' });
      // Spanish from Mexico: the page's default country would be Mexico, and the zone Mexico City's.
      const browser = new HttpBrowser({ 'accept-language': 'es-MX' });
      const page = await openAccount(server, browser, '/account', 'ana@example.com', PASSWORD);
      t.regex(page.body, /<option value="AR" selected>Argentina \(\+54\)<\/option>/, "the number's own country");
      t.notRegex(page.body, /<option value="MX" selected>/);
      t.regex(page.body, /id="phone"[^>]*value="011 15-2345-6789"/, 'the national number, without +54');
      t.regex(page.body, /<option value="America\/Mexico_City" selected>/, 'no zone stored yet: the browser country');

      const saved = await browser.submit(page, '/account/profile', {
        name: 'Ana Pérez',
        phone: '011 15-2345-6789',
        phone_country: 'AR',
        time_zone: 'America/Santiago',
      });
      t.regex(saved.body, /<option value="America\/Santiago" selected>/);
      const stored = (await server.users.findById(user.id))!;
      t.is(stored.time_zone, 'America/Santiago');
      t.is(stored.phone, '+5491123456789', 'the number is unchanged by being shown');
      const refused = await browser.submit(saved, '/account/profile', {
        name: 'Ana Pérez',
        phone: '',
        phone_country: 'AR',
        time_zone: 'Mars/Olympus_Mons',
      });
      t.is(refused.status, 200);
      t.is((await server.users.findById(user.id))!.time_zone, 'America/Santiago', 'an unknown zone is not stored');

      // December in Santiago is summer time, three hours behind UTC.
      const sessions = await browser.open(`${server.issuer}/account/sessions`);
      t.regex(sessions.body, /Última actividad: [^<]*\(GMT-3\)/);
      t.notRegex(sessions.body, / UTC</);
      const first = sessions.body.indexOf('class="session"');
      t.true(sessions.body.indexOf('class="badge"') > first, 'this device');

      const form = await browser.open(`${server.issuer}/account/password`);
      await browser.submit(form, '/account/password', {
        current_password: PASSWORD,
        password: 'luna nueva sobre el mar',
        password_confirmation: 'luna nueva sobre el mar',
      });
      const mail = (await mailsTo(server, 'ana@example.com')).find((m) => m.template === 'password-changed')!;
      // Still queued (its data) or already in the dev outbox (its text).
      t.regex(
        `${JSON.stringify(mail.data)} ${mail.text_body ?? ''}`,
        /\d{1,2}:\d{2} \(GMT-3\)/,
        "the email's time in her zone",
      );
    },
  );
}
