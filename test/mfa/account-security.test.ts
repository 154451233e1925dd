import test from 'ava';
import { generate } from 'otplib';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import type { HttpBrowser, Page } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import type { RunningUmbral } from '../support/umbral-server.ts';
import { currentCode, enrollTotp, newBrowser, PASSWORD, startMfaFixture } from './mfa-fixture.ts';

/** The account page's sign-in for a user with an authenticator app: password, then the code. */
async function openSecurityPage(browser: HttpBrowser, issuer: string, email: string, code: string): Promise<Page> {
  const identifier = await browser.open(`${issuer}/account/security`);
  const { next: factorPage } = await submitCredentials(browser, identifier, email, PASSWORD);
  return browser.submit(factorPage, '/mfa/totp', { code });
}

async function mailTemplates(server: RunningUmbral): Promise<string[]> {
  const rows = await server.umbral.storage.db
    .selectFrom('mail_queue')
    .select('template')
    .orderBy('created_at')
    .execute();
  return rows.map((r) => r.template);
}

/** Makes the browser's sign-in an hour old, as if the person had left the page open. */
async function ageSessions(server: RunningUmbral, accountId: string): Promise<void> {
  const rows = await server.umbral.storage.db
    .selectFrom('oidc_models')
    .select(['id', 'payload'])
    .where('model', '=', 'Session')
    .where('account_id', '=', accountId)
    .execute();
  for (const row of rows) {
    const payload = { ...(row.payload as Record<string, unknown>), loginTs: Math.floor(Date.now() / 1000) - 3600 };
    await server.umbral.storage.db
      .updateTable('oidc_models')
      .set({ payload: JSON.stringify(payload) })
      .where('model', '=', 'Session')
      .where('id', '=', row.id)
      .execute();
  }
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] new recovery codes and removing a factor: recent sign-in required, the old codes die, the person is emailed`,
    async (t) => {
      const { server, createUser } = await startMfaFixture(t, kind);
      const user = await createUser('ana@example.com');
      const secret = await enrollTotp(server, user);
      const oldCodes = await server.umbral.mfa.recoveryCodes.regenerate(user.id);
      const browser = newBrowser();

      const security = await openSecurityPage(browser, server.issuer, 'ana@example.com', await currentCode(secret));
      t.regex(security.url, /\/account\/security$/);
      t.regex(security.body, /La verificación en dos pasos está activada/);

      const codesPage = await browser.submit(security, '/account/security/recovery-codes', {});
      const codes = [...codesPage.body.matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
      t.is(codes.length, 10);
      t.false(await server.umbral.mfa.recoveryCodes.use(user.id, oldCodes[0]!), 'the previous codes stop working');
      t.is(await server.umbral.mfa.recoveryCodes.remaining(user.id), 10);

      // An hour later, removing the factor needs a fresh sign-in: the form goes back, nothing is removed.
      await ageSessions(server, user.id);
      const page = await browser.open(`${server.issuer}/account/security`, `${server.issuer}/auth`);
      t.true(page.url.startsWith(`${server.issuer}/auth`), 'sent to sign in again');
      t.is(new URL(page.url).searchParams.get('prompt'), 'login');
      const factorId = (await server.umbral.mfa.factors.list(user.id))[0]!.id;
      const stale = await browser.request(`${server.issuer}/account/security/factors/${factorId}/remove`, {
        form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(security.body)![1]! },
      });
      t.is(stale.status, 303);
      t.true(await server.umbral.mfa.factors.hasFactors(user.id), 'a stale sign-in removes nothing');

      // Signed in again (password and code): the factor can go, and the recovery codes with it.
      const fresh = newBrowser();
      // The code of the next 30-second step: the current one was spent on the first sign-in.
      const again = await openSecurityPage(
        fresh,
        server.issuer,
        'ana@example.com',
        await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }),
      );
      // "Quitar" opens a confirmation page (no script needed), warning hard: it is the last method.
      const confirm = await fresh.open(`${server.issuer}/account/security/factors/${factorId}/remove`);
      t.true(
        again.body.includes(`href="/account/security/factors/${factorId}/remove"`),
        'the security page links to it',
      );
      t.regex(confirm.body, /<h1>¿Quitar este método\?<\/h1>/);
      t.regex(confirm.body, /Es tu último método: la verificación en dos pasos se desactivará/);
      t.regex(confirm.body, /No, conservarlo/);
      const unconfirmed = await fresh.request(`${server.issuer}/account/security/factors/${factorId}/remove`, {
        form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(confirm.body)![1]! },
      });
      t.is(unconfirmed.status, 303, 'a removal not confirmed goes to the confirmation page');
      t.is(unconfirmed.headers.get('location'), `/account/security/factors/${factorId}/remove`);
      t.true(await server.umbral.mfa.factors.hasFactors(user.id), 'and removes nothing');
      const removed = await fresh.submit(confirm, `/factors/${factorId}/remove`, {});
      t.regex(removed.body, /Quitamos el método/);
      t.false(await server.umbral.mfa.factors.hasFactors(user.id));
      t.false(await server.umbral.mfa.recoveryCodes.hasAny(user.id));
      const unknown = await fresh.submit(removed, '/account/security/totp', {});
      t.regex(unknown.url, /\/account\/security\/totp$/, 'the page goes on working');

      await server.umbral.mailer.drain();
      t.deepEqual(
        (await mailTemplates(server)).filter((m) => m.startsWith('mfa-')),
        ['mfa-recovery-codes', 'mfa-factor-removed'],
      );
    },
  );

  test.serial(
    `[${kind}] a remembered device does not stand in for the second factor on the account's security page`,
    async (t) => {
      const { server, rp, createUser } = await startMfaFixture(t, kind);
      const user = await createUser('bea@example.com');
      const secret = await enrollTotp(server, user);
      const browser = newBrowser();
      // Signed in to a portal with the code, remembering the device; then again with the password alone.
      const first = await rp.signIn(browser, 'bea@example.com', PASSWORD);
      await browser.submit(
        first.callback,
        '/mfa/totp',
        { code: await currentCode(secret), remember: '1' },
        'http://127.0.0.1:9/cb',
      );
      const remembered = await rp.signIn(browser, 'bea@example.com', PASSWORD, { prompt: 'login' });
      t.true(remembered.callback.url.startsWith('http://127.0.0.1:9/cb'), 'the portal skipped the factor');

      // The security page wants the second factor: password again, then the factor step.
      const identifier = await browser.open(`${server.issuer}/account/security`);
      t.regex(identifier.body, /action="\/interaction\/[^"]+\/identifier"/);
      const { next: factorPage } = await submitCredentials(browser, identifier, 'bea@example.com', PASSWORD);
      t.regex(factorPage.url, /\/mfa$/, 'the factor is asked despite the remembered device');
      const security = await browser.submit(factorPage, '/mfa/totp', {
        code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }),
      });
      t.regex(security.url, /\/account\/security$/);
      t.regex(security.body, /La verificación en dos pasos está activada/);
    },
  );
}
