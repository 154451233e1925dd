import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { LOCKOUT_THRESHOLD } from '../../src/throttling/account-lockout.ts';
import { startMailbox } from '../password-reset/password-reset-mailbox.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

// The hard cap on consecutive wrong passwords, through the hosted login over HTTP, with a real SMTP
// server. With REDIS_URL set the throttle's counters live in Redis: the lockout must not care.
const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'otro secreto bien largo';
const LOCKED = /el inicio de sesión con contraseña de esta cuenta está bloqueado/;
const CREDENTIALS = /El correo electrónico o la contraseña no son correctos/;

async function setup(t: ExecutionContext, kind: (typeof JOURNEY_STORES)[number]) {
  const store = await createTestStore(kind);
  const mailbox = await startMailbox();
  const redisUrl = process.env['REDIS_URL'];
  // Its own key prefix: Redis outlives the test, and the per-address counter is shared by every test from 127.0.0.1.
  const redis: Record<string, string> = redisUrl
    ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `umbral-test-${randomBytes(6).toString('hex')}:` }
    : {};
  const server = await startUmbral(store, { SMTP_URL: mailbox.url, ...redis });
  t.teardown(async () => {
    await server.stop();
    await mailbox.close();
    await store.cleanup();
  });
  const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
  // An address of its own: Redis is shared by every test run, and counters are keyed by email.
  const email = `ana.${randomBytes(4).toString('hex')}@example.com`;
  const ana = await server.users.create({ email, password: PASSWORD });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
  return { server, rp, mailbox, ana };
}

/** Identifier step, then one password POST: the POST's own response and the page after it. */
async function tryPassword(rp: RelyingParty, email: string, password: string) {
  const browser = new HttpBrowser();
  const identifier = await browser.open((await rp.authorizationRequest()).url, REDIRECT);
  const passwordPage = await browser.submit(identifier, '/identifier', { email }, REDIRECT);
  const before = browser.history.length;
  const after = await browser.submit(passwordPage, '/password', { password }, REDIRECT);
  return { post: browser.history[before]!, after };
}

/** The stored count of consecutive wrong passwords (0 without a row). */
async function failuresOf(server: RunningUmbral, userId: string): Promise<number> {
  const row = await server.umbral.storage.db
    .selectFrom('login_lockouts')
    .select('failures')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.failures ?? 0;
}

/** Puts the count where 100 real argon2 round trips (and the throttle's waits) would. */
async function setFailures(server: RunningUmbral, userId: string, failures: number): Promise<void> {
  await server.umbral.storage.db
    .insertInto('login_lockouts')
    .values({ user_id: userId, failures, last_failure_at: new Date() })
    .onConflict((conflict) => conflict.column('user_id').doUpdateSet({ failures }))
    .execute();
}

async function drain(server: RunningUmbral): Promise<void> {
  await server.umbral.mailer.drain(15_000);
}

function unlockLinkIn(text: string): string {
  const match = /(\S+\/unlock\?token=[\w-]+)/.exec(text);
  if (!match) throw new Error(`no unlock link in: ${text}`);
  return match[1]!;
}

function visibleText(page: Page): string {
  return page.body
    .replace(/\/interaction\/[\w-]+/g, '/interaction/UID')
    .replace(/value="[^"]*"/g, 'value=""')
    .replace(/<p class="identity">[\s\S]*?<\/p>/, '');
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] after ${LOCKOUT_THRESHOLD} wrong passwords the right one is refused and the owner gets one unlock link; GET changes nothing, POST unlocks`,
    async (t) => {
      const { server, rp, mailbox, ana } = await setup(t, kind);
      // Real failures through the password step are counted, in the database.
      for (let i = 0; i < 3; i++) {
        const { post, after } = await tryPassword(rp, ana.email, `wrong-${i}`);
        t.is(post.status, 303);
        t.regex(after.body, CREDENTIALS);
      }
      t.is(await failuresOf(server, ana.id), 3);

      await setFailures(server, ana.id, LOCKOUT_THRESHOLD - 1);
      const hundredth = await tryPassword(rp, ana.email, 'wrong-99');
      t.is(hundredth.post.status, 303);
      t.regex(hundredth.post.headers.get('location')!, /\?error=locked$/);
      t.is(hundredth.after.status, 200);
      t.regex(hundredth.after.body, LOCKED);
      t.is(await failuresOf(server, ana.id), LOCKOUT_THRESHOLD);

      const right = await tryPassword(rp, ana.email, PASSWORD);
      t.is(right.post.status, 303, 'the right password reads like the wrong one');
      t.regex(right.after.body, LOCKED);
      t.false(right.after.url.startsWith(REDIRECT), 'no sign-in');
      t.is(visibleText(right.after), visibleText(hundredth.after));
      await tryPassword(rp, ana.email, 'wrong-100');

      await drain(server);
      const mails = mailbox.to(ana.email);
      t.is(mails.length, 1, 'one mail per lock, however many attempts follow');
      t.regex(mails[0]!.subject, /Desbloquea tu inicio de sesión en Umbral/);
      const link = unlockLinkIn(mails[0]!.text);
      t.true(link.startsWith(`${server.issuer}/unlock?token=`), link);
      t.regex(mails[0]!.html, /\/unlock\?token=/);
      const token = new URL(link).searchParams.get('token')!;
      const stored = await server.umbral.storage.db
        .selectFrom('account_tokens')
        .select('token_hash')
        .where('purpose', '=', 'unlock_login')
        .execute();
      t.is(stored.length, 1);
      t.not(stored[0]!.token_hash, token, 'only the hash is stored');

      // Opening the link (as a mail scanner would) only shows a button.
      const owner = new HttpBrowser();
      const opened = await owner.open(link);
      t.is(opened.status, 200);
      t.regex(opened.body, /Desbloquea el inicio de sesión/);
      t.true(opened.body.includes(ana.email));
      t.is(await failuresOf(server, ana.id), LOCKOUT_THRESHOLD + 1);
      t.regex((await tryPassword(rp, ana.email, PASSWORD)).after.body, LOCKED, 'still locked after the GET');

      // The POST needs the page's CSRF token.
      const forged = await owner.request(`${server.issuer}/unlock`, { form: { token, _csrf: 'forged' } });
      t.is(forged.status, 403);
      t.is(await failuresOf(server, ana.id), LOCKOUT_THRESHOLD + 1, 'a forged form changes nothing');

      const before = owner.history.length;
      const done = await owner.submit(opened, '/unlock', {});
      t.is(owner.history[before]!.status, 303);
      t.is(owner.history[before]!.headers.get('location'), '/unlock/done');
      t.regex(done.body, /Inicio de sesión desbloqueado/);
      t.is(await failuresOf(server, ana.id), 0, 'the lock and the count are gone');

      const again = await tryPassword(rp, ana.email, PASSWORD);
      t.true(again.after.url.startsWith(REDIRECT), 'the password signs in again');

      // The link works once; a made-up one never.
      const reused = await owner.submit(opened, '/unlock', {});
      t.is(reused.status, 400);
      t.regex(reused.body, /Este enlace ya no es válido/);
      const madeUp = await new HttpBrowser().open(`${server.issuer}/unlock?token=${'x'.repeat(43)}`);
      t.is(madeUp.status, 400);
      t.is((await new HttpBrowser().open(`${server.issuer}/unlock`)).status, 400, 'no token at all');
    },
  );

  test.serial(`[${kind}] a right password before the cap resets the count`, async (t) => {
    const { server, rp, ana } = await setup(t, kind);
    await tryPassword(rp, ana.email, 'wrong-1');
    await tryPassword(rp, ana.email, 'wrong-2');
    t.is(await failuresOf(server, ana.id), 2);
    const right = await tryPassword(rp, ana.email, PASSWORD);
    t.true(right.after.url.startsWith(REDIRECT));
    t.is(await failuresOf(server, ana.id), 0);

    // 99 is not yet the cap.
    await setFailures(server, ana.id, LOCKOUT_THRESHOLD - 2);
    t.regex((await tryPassword(rp, ana.email, 'wrong-3')).after.body, CREDENTIALS);
    t.true((await tryPassword(rp, ana.email, PASSWORD)).after.url.startsWith(REDIRECT));
    t.is(await failuresOf(server, ana.id), 0);
  });

  test.serial(`[${kind}] a locked owner can still reset the password, which lifts the lock`, async (t) => {
    const { server, rp, mailbox, ana } = await setup(t, kind);
    await setFailures(server, ana.id, LOCKOUT_THRESHOLD);
    t.regex((await tryPassword(rp, ana.email, PASSWORD)).after.body, LOCKED);

    const browser = new HttpBrowser();
    const form = await browser.open(`${server.issuer}/password/forgot`);
    const sent = await browser.submit(form, '/password/forgot', { email: ana.email });
    t.regex(sent.body, /Revisa tu correo/);
    await drain(server);
    const resetMail = mailbox.to(ana.email).find((mail) => /Restablece/.test(mail.subject))!;
    const resetLink = /(\S+\/password\/reset\?token=[\w-]+)/.exec(resetMail.text)![1]!;
    const resetPage = await browser.open(resetLink);
    const changed = await browser.submit(resetPage, '/password/reset', {
      password: NEW_PASSWORD,
      password_confirmation: NEW_PASSWORD,
    });
    t.regex(changed.body, /Tu contraseña se cambió/);
    t.is(await failuresOf(server, ana.id), 0);
    t.true((await tryPassword(rp, ana.email, NEW_PASSWORD)).after.url.startsWith(REDIRECT));
  });

  test.serial(`[${kind}] an unknown email is never counted, never locked, never mailed`, async (t) => {
    const { server, rp, mailbox, ana } = await setup(t, kind);
    const nobody = `nadie.${randomBytes(4).toString('hex')}@example.com`;
    const unknown = await tryPassword(rp, nobody, 'whatever');
    const wrong = await tryPassword(rp, ana.email, 'not the password');
    t.is(unknown.post.status, wrong.post.status);
    const search = (post: Page) => new URL(post.headers.get('location')!, post.url).search;
    t.is(search(unknown.post), search(wrong.post));
    t.regex(unknown.after.body, CREDENTIALS);
    t.is(visibleText(unknown.after), visibleText(wrong.after));
    const rows = await server.umbral.storage.db.selectFrom('login_lockouts').selectAll().execute();
    t.deepEqual(
      rows.map((row) => [row.user_id, row.failures]),
      [[ana.id, 1]],
      'only the account is counted',
    );
    await drain(server);
    t.is(mailbox.received.length, 0);
  });
}
