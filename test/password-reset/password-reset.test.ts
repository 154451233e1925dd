import http from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';
import { verifyPassword } from '../../src/users/password-hasher.ts';
import { resetServer } from '../support/empty-store.ts';
import { formOf, HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { worldsPerFile } from '../support/worlds-per-file.ts';
import { resetLinkIn, startMailbox } from './password-reset-mailbox.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const ANA = 'ana@example.com';
const OLD_PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'otro secreto bien largo';

/** One server, mailbox and portal per store for the file; each test starts from an empty store and mailbox. */
const worlds = worldsPerFile(test, async ({ kind }: { kind: StoreKind }) => {
  const store = await createTestStore(kind);
  const mailbox = await startMailbox();
  const server = await startUmbral(store, { SMTP_URL: mailbox.url });
  const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
  return {
    world: { server, rp, mailbox },
    async reset() {
      await resetServer(server);
      mailbox.received.length = 0;
    },
    async close() {
      await server.stop();
      await mailbox.close();
      await store.cleanup();
    },
  };
});

async function setup(_t: ExecutionContext, kind: StoreKind) {
  const world = await worlds({ kind });
  const ana = await world.server.users.create({ email: ANA, password: OLD_PASSWORD });
  return { ...world, ana };
}

/** Waits until every queued email went out (or failed). */
async function drain(server: RunningUmbral): Promise<void> {
  await (server.umbral.mailer as unknown as { drain(ms?: number): Promise<void> }).drain(15_000);
}

/** A sign-in up to its password step, in a fresh browser. */
async function passwordStep(rp: RelyingParty, email: string, browser = new HttpBrowser()) {
  const request = await rp.authorizationRequest();
  const identifier = await browser.open(request.url, REDIRECT);
  const passwordPage = await browser.submit(identifier, '/identifier', { email }, REDIRECT);
  return { browser, request, passwordPage, uid: /\/interaction\/([\w-]+)\/password/.exec(passwordPage.body)![1]! };
}

/** "¿Olvidaste tu contraseña?" from the password step; returns the POST's own answer and the page after it. */
async function forgotFromSignIn(rp: RelyingParty, email: string) {
  const step = await passwordStep(rp, email);
  const forgotUrl = /href="(\/interaction\/[\w-]+\/forgot)"/.exec(step.passwordPage.body)?.[1];
  if (!forgotUrl) throw new Error('no forgot link on the password step');
  const form = await step.browser.open(new URL(forgotUrl, step.passwordPage.url).href);
  const before = step.browser.history.length;
  const after = await step.browser.submit(form, '/forgot', { email });
  return { ...step, form, post: step.browser.history[before]!, after };
}

async function forgotStandalone(server: RunningUmbral, email: string, browser = new HttpBrowser()) {
  const form = await browser.open(`${server.issuer}/password/forgot`);
  const before = browser.history.length;
  const after = await browser.submit(form, '/password/forgot', { email });
  return { browser, form, post: browser.history[before]!, after };
}

function normalized(page: Page): string {
  return page.body.replace(/\/interaction\/[\w-]+/g, '/interaction/UID').replace(/value="[^"]*"/g, 'value=""');
}

function locationOf(page: Page): string {
  return new URL(page.headers.get('location')!, page.url).pathname.replace(/\/interaction\/[\w-]+/, '/interaction/UID');
}

/** Submits the reset form of `resetPage` with both password fields. */
function submitReset(
  browser: HttpBrowser,
  resetPage: Page,
  password: string,
  confirmation = password,
  stopAt = REDIRECT,
) {
  return browser.submit(resetPage, '/password/reset', { password, password_confirmation: confirmation }, stopAt);
}

async function passwordHashOf(server: RunningUmbral, email: string): Promise<string | null> {
  return (await server.users.findByEmail(email))!.password_hash;
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] forgot password: known and unknown emails get the same answer; only the account gets a link`,
    async (t) => {
      const { server, rp, mailbox } = await setup(t, kind);

      const known = await forgotFromSignIn(rp, ANA);
      t.regex(known.form.body, /¿Olvidaste tu contraseña\?/);
      t.true(known.form.body.includes(`value="${ANA}"`), 'the email of the sign-in is filled in');
      const unknown = await forgotFromSignIn(rp, 'nadie@example.com');
      t.is(known.post.status, 303);
      t.is(unknown.post.status, known.post.status);
      t.is(locationOf(known.post), '/interaction/UID/forgot/sent');
      t.is(locationOf(unknown.post), locationOf(known.post));
      t.is(known.after.status, 200);
      t.regex(known.after.body, /Revisa tu correo/);
      t.is(normalized(unknown.after), normalized(known.after));

      const knownAlone = await forgotStandalone(server, ANA);
      const unknownAlone = await forgotStandalone(server, 'nadie@example.com');
      t.is(knownAlone.post.status, 303);
      t.is(knownAlone.post.headers.get('location'), '/password/forgot/sent');
      t.is(unknownAlone.post.status, 303);
      t.is(unknownAlone.post.headers.get('location'), knownAlone.post.headers.get('location'));
      t.is(normalized(unknownAlone.after), normalized(knownAlone.after));

      await drain(server);
      const mails = await mailbox.waitFor(ANA, 2);
      t.is(mailbox.to('nadie@example.com').length, 0, 'nothing is sent to an email without an account');
      t.is(mailbox.received.length, 2);
      t.regex(mails[0]!.subject, /Restablece tu contraseña de Umbral/);
      t.true(resetLinkIn(mails[0]!).startsWith(`${server.issuer}/password/reset?token=`));
      t.regex(mails[0]!.html, /password\/reset\?token=/);
      // Only the hash is stored.
      const token = new URL(resetLinkIn(mails[1]!)).searchParams.get('token')!;
      t.true(token.length >= 43);
      const rows = await server.umbral.storage.db.selectFrom('account_tokens').select(['token_hash']).execute();
      t.false(rows.some((row) => row.token_hash.includes(token)));
    },
  );

  test.serial(
    `[${kind}] a reset link changes the password, revokes every session and refresh token, and sends the person back to sign in`,
    async (t) => {
      const { server, rp, mailbox } = await setup(t, kind);
      // Signed in somewhere else before the reset, with a refresh token.
      const elsewhere = new HttpBrowser();
      const signedIn = await rp.signIn(elsewhere, ANA, OLD_PASSWORD);
      const tokens = await rp.exchange(signedIn.callback.url, signedIn.request);
      t.truthy(tokens.refresh_token);

      const started = await forgotFromSignIn(rp, ANA);
      const [mail] = await mailbox.waitFor(ANA, 1);
      const link = resetLinkIn(mail!);
      // A mail scanner fetching the link does not use it up.
      t.is((await new HttpBrowser().open(link)).status, 200);
      const resetPage = await started.browser.open(link);
      t.is(resetPage.status, 200);
      t.regex(resetPage.body, /Crea una contraseña nueva/);
      t.is((resetPage.body.match(/autocomplete="new-password"/g) ?? []).length, 2, 'the new password is asked twice');

      const before = started.browser.history.length;
      const back = await submitReset(started.browser, resetPage, NEW_PASSWORD);
      const post = started.browser.history[before]!;
      t.is(post.status, 303);
      t.is(post.headers.get('location'), `/interaction/${started.uid}/password-changed`);
      t.false(back.url.startsWith(REDIRECT), 'no automatic sign-in');
      t.is(back.status, 200);
      t.true(back.url.endsWith(`/interaction/${started.uid}?notice=password_changed`));
      t.regex(back.body, /Tu contraseña se cambió\. Inicia sesión con la nueva\./);
      t.true(back.body.includes(ANA), 'back on the password step of the same sign-in');

      // The new password signs in through the normal login; the old one no longer does.
      const callback = await started.browser.submit(back, '/password', { password: NEW_PASSWORD }, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT));
      t.truthy(await rp.exchange(callback.url, started.request));
      const oldAttempt = await passwordStep(rp, ANA);
      const refused = await oldAttempt.browser.submit(
        oldAttempt.passwordPage,
        '/password',
        { password: OLD_PASSWORD },
        REDIRECT,
      );
      t.regex(refused.body, /El correo electrónico o la contraseña no son correctos/);

      // Everything issued before the reset is gone.
      const refreshError = await t.throwsAsync(rp.refresh(tokens.refresh_token!));
      t.is((refreshError as { error?: string }).error, 'invalid_grant');
      const silent = await rp.authorizationRequest({ prompt: 'none' });
      const answer = await elsewhere.open(silent.url, REDIRECT);
      t.true(answer.url.startsWith(REDIRECT));
      t.is(new URL(answer.url).searchParams.get('error'), 'login_required');
      const user = (await server.users.findByEmail(ANA))!;
      t.truthy(user.password_changed_at);

      // The notification, and no second use of the link.
      await drain(server);
      const changed = mailbox.to(ANA).find((m) => /Se cambió tu contraseña de Umbral/.test(m.subject));
      t.truthy(changed, 'password-changed email sent');
      t.true(changed!.text.includes(`${server.issuer}/password/forgot`));
      const reused = await started.browser.open(link);
      t.is(reused.status, 400);
      t.regex(reused.body, /Este enlace ya no es válido/);
      const reposted = await submitReset(new HttpBrowser(), resetPage, 'yet another long secret');
      t.is(reposted.status, 403, 'a stale form from another browser fails CSRF');
      const replay = await submitReset(started.browser, resetPage, 'yet another long secret');
      t.is(replay.status, 400);
      t.regex(replay.body, /Este enlace ya no es válido/);
      t.true(await verifyPassword(await passwordHashOf(server, ANA), NEW_PASSWORD));
    },
  );

  test.serial(
    `[${kind}] expired, superseded and foreign links; mismatched and weak passwords change nothing`,
    async (t) => {
      const { server, rp, mailbox, ana } = await setup(t, kind);
      const db = server.umbral.storage.db;
      const hashBefore = await passwordHashOf(server, ANA);

      // A newer link invalidates the older one.
      await forgotStandalone(server, ANA);
      const [first] = await mailbox.waitFor(ANA, 1);
      await forgotStandalone(server, ANA);
      const second = (await mailbox.waitFor(ANA, 2))[1]!;
      const stale = await new HttpBrowser().open(resetLinkIn(first!));
      t.is(stale.status, 400);
      t.regex(stale.body, /Este enlace ya no es válido/);
      t.regex(stale.body, /href="\/password\/forgot"/, 'offers a new link');

      const browser = new HttpBrowser();
      const resetPage = await browser.open(resetLinkIn(second));
      t.is(resetPage.status, 200);
      const mismatch = await submitReset(browser, resetPage, NEW_PASSWORD, `${NEW_PASSWORD}!`);
      t.is(mismatch.status, 400);
      t.regex(mismatch.body, /Las contraseñas no coinciden/);
      const short = await submitReset(browser, resetPage, 'corta');
      t.is(short.status, 400);
      t.regex(short.body, /8/, 'the reason names the minimum');
      t.regex(short.body, /aria-invalid="true"/);
      const common = await submitReset(browser, resetPage, 'password123');
      t.is(common.status, 400);
      const withEmail = await submitReset(browser, resetPage, 'ana@example.com-2024');
      t.is(withEmail.status, 400);
      t.not(
        common.body.match(/role="alert">([^<]*)</)?.[1],
        short.body.match(/role="alert">([^<]*)</)?.[1],
        'each refusal says why',
      );
      t.is(await passwordHashOf(server, ANA), hashBefore, 'nothing changed');
      const stillUsable = await new HttpBrowser().open(resetLinkIn(second));
      t.is(stillUsable.status, 200, 'a refused password does not use up the link');

      // An expired link.
      await db
        .updateTable('account_tokens')
        .set({ expires_at: sql<Date>`now() - interval '1 minute'` })
        .where('user_id', '=', ana.id)
        .execute();
      const expired = await new HttpBrowser().open(resetLinkIn(second));
      t.is(expired.status, 400);
      t.regex(expired.body, /Este enlace ya no es válido/);
      const expiredPost = await submitReset(browser, resetPage, NEW_PASSWORD);
      t.is(expiredPost.status, 400);
      t.is(await passwordHashOf(server, ANA), hashBefore);

      // A reset started in a sign-in but finished in another browser ends on the standalone notice.
      await forgotFromSignIn(rp, ANA);
      const third = (await mailbox.waitFor(ANA, 3))[2]!;
      const phone = new HttpBrowser();
      const phonePage = await phone.open(resetLinkIn(third));
      const done = await submitReset(phone, phonePage, NEW_PASSWORD);
      t.is(done.status, 200);
      t.regex(done.url, /\/interaction\/[\w-]+\/password-changed$/);
      t.regex(done.body, /Tu contraseña se cambió/);
      t.regex(done.body, /Cerramos tu sesión/);
      t.true(await verifyPassword(await passwordHashOf(server, ANA), NEW_PASSWORD));

      // A reset from the standalone page ends on the standalone notice too (a quarter hour later: 3 links per account).
      await db.deleteFrom('throttle').where('key', 'like', 'pwreset-acct:%').execute();
      await forgotStandalone(server, ANA);
      const fourth = (await mailbox.waitFor(ANA, 5)).filter((m) => /Restablece/.test(m.subject)).at(-1)!;
      t.not(resetLinkIn(fourth), resetLinkIn(third));
      const laptop = new HttpBrowser({ 'accept-language': 'en' });
      const laptopPage = await laptop.open(resetLinkIn(fourth));
      t.regex(laptopPage.body, /Create a new password/);
      const laptopDone = await submitReset(laptop, laptopPage, 'a third long secret');
      t.true(laptopDone.url.endsWith('/password/changed'));
      t.regex(laptopDone.body, /Your password was changed/);
    },
  );

  test.serial(
    `[${kind}] a reset started at a portal refuses that portal's name, the product's and common passwords dressed up`,
    async (t) => {
      const { server, mailbox } = await setup(t, kind);
      const named = await server.registerClient({
        clientId: 'beneficios',
        name: 'Portal de Beneficios',
        redirectUris: [REDIRECT],
      });
      const rp = await RelyingParty.discover(server.issuer, 'beneficios', named.client_secret, REDIRECT);
      const started = await forgotFromSignIn(rp, ANA);
      const [mail] = await mailbox.waitFor(ANA, 1);
      const resetPage = await started.browser.open(resetLinkIn(mail!));
      const hashBefore = await passwordHashOf(server, ANA);
      for (const [password, reason] of [
        ['Portal-de-Beneficios-2026', /no puede ser el nombre Portal de Beneficios, aunque/],
        ['Umbral2026', /no puede ser el nombre Umbral, aunque/],
        ['password1234567', /muy común con números, símbolos o letras cambiadas/],
        ['qwerty2026!', /muy común con números, símbolos o letras cambiadas/],
      ] as const) {
        const refused = await submitReset(started.browser, resetPage, password);
        t.is(refused.status, 400, password);
        t.regex(refused.body, reason, password);
      }
      t.is(await passwordHashOf(server, ANA), hashBefore, 'nothing changed');
      const done = await submitReset(started.browser, resetPage, 'beneficios para toda la familia');
      t.regex(done.url, /notice=password_changed|password-changed/);
      t.true(await verifyPassword(await passwordHashOf(server, ANA), 'beneficios para toda la familia'));
    },
  );

  test.serial(`[${kind}] reset links are built from ISSUER, never from the Host header`, async (t) => {
    const { server, mailbox } = await setup(t, kind);
    const port = new URL(server.issuer).port;
    const raw = (method: string, path: string, headers: Record<string, string>, body?: string) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const foreign = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    const form = await raw('GET', '/password/forgot', foreign);
    t.is(form.status, 200);
    const cookie = (form.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const { hidden } = formOf(form.body, '/password/forgot');
    const body = new URLSearchParams({ ...hidden, email: ANA }).toString();
    const post = await raw(
      'POST',
      '/password/forgot',
      { ...foreign, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    );
    t.is(post.status, 303);
    const [mail] = await mailbox.waitFor(ANA, 1);
    t.true(resetLinkIn(mail!).startsWith(`${server.issuer}/password/reset?token=`));
    t.false(mail!.text.includes('evil.example'));
    t.false(mail!.html.includes('evil.example'));
  });

  test.serial(
    `[${kind}] rate limits: per account (silently), per address (429), and bad links per address`,
    async (t) => {
      const { server, mailbox } = await setup(t, kind);
      const browser = new HttpBrowser();
      // Per account: 3 links a quarter hour; the 4th request reads the same but sends nothing.
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await forgotStandalone(server, ANA, browser));
      for (const answer of answers) {
        t.is(answer.post.status, 303);
        t.regex(answer.after.body, /Revisa tu correo/);
      }
      await drain(server);
      t.is(mailbox.to(ANA).length, 3);

      // Per address: 20 requests an hour, whatever the email; then a friendly 429.
      let limited: Page | undefined;
      for (let i = 0; i < 20 && !limited; i++) {
        const { post } = await forgotStandalone(server, `persona${i}@example.com`, browser);
        if (post.status === 429) limited = post;
        else t.is(post.status, 303);
      }
      t.truthy(limited, 'the address limit engaged');
      t.true(Number(limited!.headers.get('retry-after')) >= 1);
      t.regex(limited!.body, /Demasiadas solicitudes/);

      // Bad links from one address: refused, then 429 even for a good link.
      const good = resetLinkIn(mailbox.to(ANA)[2]!);
      let blocked: Page | undefined;
      for (let i = 0; i < 12 && !blocked; i++) {
        const page = await browser.open(
          `${server.issuer}/password/reset?token=${'x'.repeat(43 - String(i).length)}${i}`,
        );
        if (page.status === 429) blocked = page;
        else t.is(page.status, 400);
      }
      t.truthy(blocked, 'the bad-link limit engaged');
      t.true(Number(blocked!.headers.get('retry-after')) >= 1);
      t.is((await browser.open(good)).status, 429);
    },
  );
}

/** The Set-Cookie line of `name` in `page` (the value's one, not its `.sig`). */
function setCookie(page: Page, name: string): string | undefined {
  return page.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
}

/** What Chromium sends with a form posted from a `Referrer-Policy: no-referrer` page of ours. */
const NO_REFERRER_POST = { origin: 'null', 'sec-fetch-site': 'same-origin' };

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] the reset link's token leaves the URL: a 303 to /password/reset, the token in a short-lived cookie of that page, no-referrer, and a form and retry link without it`,
    async (t) => {
      const { server, mailbox } = await setup(t, kind);
      await forgotStandalone(server, ANA);
      const [mail] = await mailbox.waitFor(ANA, 1);
      const link = resetLinkIn(mail!);
      const token = new URL(link).searchParams.get('token')!;

      const browser = new HttpBrowser();
      const opened = await browser.request(link);
      t.is(opened.status, 303);
      t.is(opened.headers.get('location'), '/password/reset');
      t.is(opened.headers.get('referrer-policy'), 'no-referrer');
      const cookie = setCookie(opened, 'umbral.reset-link');
      if (!cookie) return t.fail('no link cookie');
      t.regex(cookie, /; path=\/password\/reset;/i);
      t.regex(cookie, /; httponly/i);
      t.regex(cookie, /; samesite=lax/i);
      t.truthy(setCookie(opened, 'umbral.reset-link.sig'), 'signed');
      const expires = Date.parse(/; expires=([^;]+)/i.exec(cookie)![1]!);
      t.true(expires > Date.now() && expires <= Date.now() + 15 * 60_000 + 5_000, 'gone within 15 minutes');

      const page = await browser.follow(opened);
      t.is(page.status, 200);
      t.is(page.url, `${server.issuer}/password/reset`, 'no token in the final URL');
      t.is(page.headers.get('referrer-policy'), 'no-referrer');
      t.regex(page.body, /<meta name="referrer" content="no-referrer">/);
      t.false(page.body.includes(token), 'the page does not repeat the token');
      t.deepEqual(Object.keys(formOf(page.body, '/password/reset').hidden), ['_csrf'], 'no token field');

      // Other pages keep same-origin.
      const forgot = await browser.open(`${server.issuer}/password/forgot`);
      t.is(forgot.headers.get('referrer-policy'), 'same-origin');
      t.regex(forgot.body, /<meta name="referrer" content="same-origin">/);

      // A POST whose CSRF check fails offers the page again, without the token; so does a null Origin
      // that does not come with Sec-Fetch-Site: same-origin.
      const { action, hidden } = formOf(page.body, '/password/reset');
      const fields = { password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD };
      const post = (extra: Record<string, string>, headers: Record<string, string> = {}) =>
        browser.request(new URL(action, page.url).href, { form: { ...hidden, ...fields, ...extra }, headers });
      for (const [what, expired] of [
        ['a wrong CSRF token', await post({ _csrf: 'x'.repeat(hidden['_csrf']!.length) })],
        ['Origin: null alone', await post({}, { origin: 'null' })],
        ['Origin: null from another site', await post({}, { origin: 'null', 'sec-fetch-site': 'cross-site' })],
      ] as const) {
        t.is(expired.status, 403, what);
        t.regex(expired.body, /href="\/password\/reset"/, `${what}: the retry link is the tokenless page`);
        t.false(expired.body.includes(token), what);
      }
      t.true(await verifyPassword(await passwordHashOf(server, ANA), OLD_PASSWORD), 'nothing changed');

      // As Chromium posts it from a no-referrer page: Origin null, Sec-Fetch-Site same-origin.
      const changed = await post({}, NO_REFERRER_POST);
      t.is(changed.status, 303);
      t.is(changed.headers.get('location'), '/password/changed');
      t.regex(setCookie(changed, 'umbral.reset-link') ?? '', /expires=Thu, 01 Jan 1970/i, 'the cookie is cleared');
      t.true(await verifyPassword(await passwordHashOf(server, ANA), NEW_PASSWORD));

      // A replayed link, or a replayed form, is refused, at the tokenless URL.
      const replayed = await browser.open(link);
      t.is(replayed.status, 400);
      t.is(replayed.url, `${server.issuer}/password/reset`);
      t.regex(replayed.body, /Este enlace ya no es válido/);
      const reposted = await post({}, NO_REFERRER_POST);
      t.is(reposted.status, 400);
      t.regex(reposted.body, /Este enlace ya no es válido/);

      // Without the cookie (never opened, or its 15 minutes gone), the page is the invalid-link page.
      const bare = await new HttpBrowser().open(`${server.issuer}/password/reset`);
      t.is(bare.status, 400);
      t.regex(bare.body, /Este enlace ya no es válido/);
      // A repeated or empty token: no cookie, the same invalid-link page, at the tokenless URL too.
      for (const query of [`?token=${token}&token=${token}`, '?token=']) {
        const odd = await new HttpBrowser().open(`${server.issuer}/password/reset${query}`);
        t.is(odd.status, 400, query);
        t.is(odd.url, `${server.issuer}/password/reset`, query);
      }
    },
  );
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a reset started from prompt=login in a browser with a session comes back to that sign-in and finishes at the portal`,
    async (t) => {
      const { rp, mailbox } = await setup(t, kind);
      const browser = new HttpBrowser();
      await rp.signIn(browser, ANA, OLD_PASSWORD);
      // The portal asks for a fresh sign-in in the same browser, whose session the reset will end.
      const request = await rp.authorizationRequest({ prompt: 'login' });
      const identifier = await browser.open(request.url, REDIRECT);
      const passwordPage = await browser.submit(identifier, '/identifier', { email: ANA }, REDIRECT);
      const uid = /\/interaction\/([\w-]+)\/password/.exec(passwordPage.body)![1]!;
      const form = await browser.open(new URL(`/interaction/${uid}/forgot`, passwordPage.url).href);
      await browser.submit(form, '/forgot', { email: ANA });
      const [mail] = await mailbox.waitFor(ANA, 1);
      const resetPage = await browser.open(resetLinkIn(mail!));
      const back = await submitReset(browser, resetPage, NEW_PASSWORD);
      t.true(back.url.endsWith(`/interaction/${uid}?notice=password_changed`), `back on its sign-in: ${back.url}`);
      t.regex(back.body, /Tu contraseña se cambió\. Inicia sesión con la nueva\./);
      const callback = await browser.submit(back, '/password', { password: NEW_PASSWORD }, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT), `the portal's pending request finishes: ${callback.url}`);
      const tokens = await rp.exchange(callback.url, request);
      t.truthy(tokens.id_token);
    },
  );
}
