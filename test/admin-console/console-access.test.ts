import test from 'ava';
import type { Context } from 'koa';
import type { AccountAccess, SignedInAccount } from '../../src/account/account-access.ts';
import type { AccountSignIn } from '../../src/account/account-sign-in.ts';
import { OperatorAccess } from '../../src/admin-console/operator-access.ts';
import type { OperatorDirectory } from '../../src/admin-console/operators.ts';
import { OPERATOR_EMAIL_OPTIONS } from '../../src/cli/operators-commands.ts';
import { USAGE } from '../../src/cli/usage.ts';
import type { PageRenderer } from '../../src/http/page-renderer.ts';
import type { FactorKind } from '../../src/mfa/factor-repository.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import type { UserRow } from '../../src/storage/schema.ts';
import { ownStderr, runUmbral } from '../cli/umbral-cli.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import {
  ACR_MFA,
  auditEvents,
  CONSOLE_STORES,
  consoleWorlds,
  createOperator,
  createUser,
  enrollTotp,
  newBrowser,
  openConsole,
  PASSWORD,
  REDIRECT,
} from './console-fixture.ts';

const consoleWorld = consoleWorlds(test);

test('the usage names the operators commands and their options', (t) => {
  for (const name of Object.keys(OPERATOR_EMAIL_OPTIONS)) t.true(USAGE.includes(`--${name}`), name);
  for (const command of ['operators add', 'operators list', 'operators remove'])
    t.true(USAGE.includes(`umbral ${command}`), command);
});

/** OperatorAccess alone, with stand-ins: which sign-ins get in, which are stepped up, which get which page. */
function accessWith(account: { amr: string[]; loginTs?: number }, factors: FactorKind[]) {
  const started: Array<Record<string, unknown>> = [];
  const rendered: Array<{ view: string; locals: Record<string, unknown>; status: number | undefined }> = [];
  const signedIn: SignedInAccount = {
    user: { id: 'u1', email: 'olga@example.com' } as UserRow,
    sessionUid: 's1',
    loginTs: account.loginTs ?? Math.floor(Date.now() / 1000),
    amr: account.amr,
  };
  const access = new OperatorAccess({
    access: { current: async () => signedIn } as unknown as AccountAccess,
    signIn: {
      start: (_ctx: Context, options: Record<string, unknown>) => started.push(options),
    } as unknown as AccountSignIn,
    operators: { isOperator: async () => true } as unknown as OperatorDirectory,
    factors: { list: async () => factors.map((kind) => ({ kind })) },
    pages: {
      localeOf: () => 'es',
      render: async (_ctx: Context, view: string, locals: Record<string, unknown>, status?: number) => {
        rendered.push({ view, locals, status });
      },
    } as unknown as PageRenderer,
    audit: { record: () => {} },
  });
  const ctx = { method: 'GET', originalUrl: '/admin/users', path: '/admin/users', state: {} } as unknown as Context;
  return { access, started, rendered, ctx };
}

test('a passkey or app sign-in gets in; one factor is stepped up; SMS alone, or no strong factor, gets a page', async (t) => {
  for (const amr of [
    ['pwd', 'otp', 'mfa'],
    ['hwk', 'mfa'],
    ['swk', 'mfa'],
  ]) {
    const { access, ctx, started, rendered } = accessWith({ amr }, ['passkey']);
    let passed = false;
    await access.require()(ctx, async () => {
      passed = true;
    });
    t.true(passed, amr.join(' '));
    t.deepEqual([started.length, rendered.length], [0, 0]);
  }

  const oneFactor = accessWith({ amr: ['pwd'] }, ['sms', 'totp']);
  await oneFactor.access.require()(oneFactor.ctx, async () => t.fail());
  t.like(oneFactor.started[0], { reauth: false, acrValues: 'urn:umbral:acr:mfa', returnTo: '/admin/users' });

  const sms = accessWith({ amr: ['pwd', 'sms', 'mfa'] }, ['sms', 'totp']);
  await sms.access.require()(sms.ctx, async () => t.fail());
  t.like(sms.rendered[0], { view: 'admin-second-factor', locals: { mode: 'use' }, status: 403 });

  for (const factors of [[], ['sms']] as FactorKind[][]) {
    const none = accessWith({ amr: ['pwd', ...(factors.length ? ['sms', 'mfa'] : [])] }, factors);
    await none.access.require()(none.ctx, async () => t.fail());
    t.like(none.rendered[0], { view: 'admin-second-factor', locals: { mode: 'enrol' }, status: 403 });
  }
});

test('a destructive action after a sign-in older than 5 minutes signs in again and does nothing', async (t) => {
  const stale = accessWith({ amr: ['hwk', 'mfa'], loginTs: Math.floor(Date.now() / 1000) - 301 }, ['passkey']);
  Object.assign(stale.ctx, { method: 'POST', path: '/admin/users/u2/disable' });
  await stale.access.require()(stale.ctx, () => stale.access.requireFresh()(stale.ctx, async () => t.fail()));
  t.like(stale.started[0], { reauth: true, loginHint: 'olga@example.com', returnTo: '/admin/users/u2' });

  const fresh = accessWith({ amr: ['hwk', 'mfa'], loginTs: Math.floor(Date.now() / 1000) - 200 }, ['passkey']);
  Object.assign(fresh.ctx, { method: 'POST', path: '/admin/users/u2/disable' });
  let done = false;
  await fresh.access.require()(fresh.ctx, () =>
    fresh.access.requireFresh()(fresh.ctx, async () => {
      done = true;
    }),
  );
  t.true(done);
});

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] umbral operators add, list and remove, audited; refusals exit 1 and change nothing`,
    async (t) => {
      const world = await consoleWorld(kind);
      const env = { ...world.store.env, USER: 'root-op' };
      await createUser(world.server, 'olga@example.com');
      const operators = () => world.server.umbral.storage.db.selectFrom('operators').select('user_id').execute();

      for (const [args, message] of [
        [
          ['--email', 'nadie@example.com'],
          'umbral: no user has the email nadie@example.com; add them first (umbral users add)',
        ],
        [['--email', 'not an email'], 'umbral: "not an email" is not a valid email address'],
      ] as const) {
        const refused = await runUmbral(['operators', 'add', ...args], { env });
        t.is(refused.code, 1);
        t.is(refused.stdout, '');
        t.is(ownStderr(refused).trim(), message);
      }
      t.deepEqual(await operators(), []);

      const added = await runUmbral(['operators', 'add', '--email', 'OLGA@example.com'], { env });
      t.is(added.code, 0, added.stderr);
      t.like(JSON.parse(added.stdout), { email: 'olga@example.com', grantedBy: 'root-op' });
      const again = await runUmbral(['operators', 'add', '--email', 'olga@example.com'], { env });
      t.is(again.code, 1);
      t.is(ownStderr(again).trim(), 'umbral: olga@example.com is already an operator');

      const listed = await runUmbral(['operators', 'list'], { env });
      t.deepEqual(
        (JSON.parse(listed.stdout) as Array<{ email: string }>).map((o) => o.email),
        ['olga@example.com'],
      );

      const removed = await runUmbral(['operators', 'remove', '--email', 'olga@example.com'], { env });
      t.is(removed.code, 0, removed.stderr);
      t.deepEqual(JSON.parse(removed.stdout), { removed: 'olga@example.com' });
      t.deepEqual(await operators(), []);
      const missing = await runUmbral(['operators', 'remove', '--email', 'olga@example.com'], { env });
      t.is(missing.code, 1);
      t.is(ownStderr(missing).trim(), 'umbral: olga@example.com is not an operator');
      const usage = await runUmbral(['operators', 'grant'], { env });
      t.is(usage.code, 2);

      for (const type of ['operator.operator_added', 'operator.operator_removed']) {
        const events = await auditEvents(world.server, type);
        t.is(events.length, 1, type);
        t.like(events[0], { actor_kind: 'operator', actor_id: 'root-op' });
        t.truthy(events[0]!.subject_user_id);
      }
    },
  );
}

for (const kind of CONSOLE_STORES) {
  test.serial(
    `[${kind}] a signed-in person who is not an operator gets a 403 page in their language, with a way back`,
    async (t) => {
      const world = await consoleWorld(kind);
      await createUser(world.server, 'ana@example.com');
      const spanish = newBrowser();
      const page = await openConsole(world, spanish, '/admin', 'ana@example.com');
      t.is(page.status, 403);
      t.regex(page.body, /<h1>No tienes acceso a la consola<\/h1>/);
      t.regex(page.body, /href="\/account"/);
      t.notRegex(page.body, /admin-nav/);

      const english = newBrowser('en-US');
      const users = await openConsole(world, english, '/admin/organizations', 'ana@example.com');
      t.is(users.status, 403);
      t.regex(users.body, /<h1>You don&#39;t have access to the console<\/h1>/);
      t.regex(users.body, /Back to your account/);
      t.is((await auditEvents(world.server, 'operator.console_refused')).length, 2);
    },
  );

  test.serial(
    `[${kind}] an operator without a passkey or authenticator app is asked to enrol one at /account/security`,
    async (t) => {
      const world = await consoleWorld(kind);
      await createOperator(world.server, 'olga@example.com');
      const browser = newBrowser();
      const first = await browser.request(`${world.server.issuer}/admin`);
      t.is(first.status, 303);
      const authorize = new URL(first.headers.get('location')!, world.server.issuer);
      t.is(authorize.pathname, '/auth');
      t.is(
        authorize.searchParams.get('client_id'),
        'umbral-account',
        'the account page sign-in, not a login of its own',
      );
      t.is(authorize.searchParams.get('acr_values'), ACR_MFA);

      const page = await openConsole(world, browser, '/admin', 'olga@example.com');
      t.is(page.status, 403);
      t.regex(page.body, /<h1>Se necesita una verificación más segura<\/h1>/);
      t.regex(page.body, /href="\/account\/security"/);
      t.notRegex(page.body, /admin-nav/);
    },
  );

  test.serial(
    `[${kind}] an operator signs in with the authenticator app; a one-factor session is stepped up to it`,
    async (t) => {
      const world = await consoleWorld(kind);
      const operator = await createOperator(world.server, 'olga@example.com');
      const totp = await enrollTotp(world.server, operator);
      const browser = newBrowser();
      const home = await openConsole(world, browser, '/admin', 'olga@example.com', totp);
      t.is(home.status, 200);
      t.regex(home.body, /<h1>Consola de operación<\/h1>/);
      t.regex(home.body, /Operas como olga@example\.com/);
      t.regex(home.body, /href="\/admin\/audit"/);

      // Signed in at a portal with the password alone (the app was added afterwards): only the code is asked.
      const other = await createOperator(world.server, 'otto@example.com');
      const portalBrowser = newBrowser();
      const { callback } = await world.rp.signIn(portalBrowser, 'otto@example.com', PASSWORD);
      t.true(callback.url.startsWith(REDIRECT));
      const otherTotp = await enrollTotp(world.server, other);
      const stepUp = await portalBrowser.open(`${world.server.issuer}/admin`);
      t.regex(stepUp.url, /\/interaction\/[^/]+\/mfa$/, 'straight to the factor step: no password again');
      const after = await portalBrowser.submit(stepUp, '/mfa/totp', { code: await otherTotp.code() });
      t.is(after.status, 200);
      t.is(new URL(after.url).pathname, '/admin');
      t.regex(after.body, /Operas como otto@example\.com/);
    },
  );

  test.serial(`[${kind}] organizations: the list and a company's members`, async (t) => {
    const world = await consoleWorld(kind);
    const operator = await createOperator(world.server, 'olga@example.com');
    const totp = await enrollTotp(world.server, operator);
    const member = await createUser(world.server, 'bea@example.com', 'Bea Souza');
    const added = await runUmbral(['orgs', 'add', '--name', 'Acme S.A.', '--country', 'CL'], { env: world.store.env });
    t.is(added.code, 0, added.stderr);
    const org = JSON.parse(added.stdout) as { id: string; slug: string };
    await new MembershipRepository(world.server.umbral.storage.db).join({
      organizationId: org.id,
      userId: member.id,
      roles: ['member'],
      invitedBy: null,
    });
    const browser = newBrowser();
    const list = await openConsole(world, browser, '/admin/organizations', 'olga@example.com', totp);
    t.is(list.status, 200);
    t.regex(list.body, new RegExp(`href="/admin/organizations/${org.id}">Acme S\\.A\\.</a>`));
    t.regex(list.body, /Activa/);
    const show = await browser.open(`${world.server.issuer}/admin/organizations/${org.id}`);
    t.is(show.status, 200);
    t.regex(show.body, /<h1>Acme S\.A\.<\/h1>/);
    t.regex(show.body, /1 miembro/);
    t.regex(show.body, /bea@example\.com/);
    const missing = await browser.open(`${world.server.issuer}/admin/organizations/nope`);
    t.is(missing.status, 404);
  });

  test.serial(
    `[${kind}] the audit log filters by type, user, organization and time; bad filters are field errors`,
    async (t) => {
      const world = await consoleWorld(kind);
      const operator = await createOperator(world.server, 'olga@example.com');
      const totp = await enrollTotp(world.server, operator);
      await createUser(world.server, 'bea@example.com');
      await world.rp.signIn(newBrowser(), 'bea@example.com', PASSWORD);
      await world.rp.signIn(newBrowser(), 'bea@example.com', 'wrong password!');
      const browser = newBrowser();
      const page = await openConsole(world, browser, '/admin/audit', 'olga@example.com', totp);
      t.is(page.status, 200);
      await world.server.umbral.audit.flush();

      const filtered = await browser.open(
        `${world.server.issuer}/admin/audit?${new URLSearchParams({ user: 'bea@example.com', type: 'sign_in.succeeded' })}`,
      );
      t.is(filtered.status, 200);
      t.is([...filtered.body.matchAll(/data-event="/g)].length, 1, 'one sign-in of bea');
      t.regex(filtered.body, /<code>sign_in\.succeeded<\/code>/);
      t.regex(filtered.body, /value="bea@example\.com"/);
      const failures = await browser.open(
        `${world.server.issuer}/admin/audit?${new URLSearchParams({ user: 'bea@example.com' })}`,
      );
      t.regex(failures.body, /sign_in\.failed/);

      const future = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
      const none = await browser.open(`${world.server.issuer}/admin/audit?from=${future}`);
      t.is(none.status, 200);
      t.regex(none.body, /No hay eventos con estos filtros/);

      const bad = await browser.open(
        `${world.server.issuer}/admin/audit?${new URLSearchParams({
          type: 'Sign In!',
          user: 'nadie@example.com',
          organization: 'no-such-company',
          from: '2026-02-30T10:00',
          to: 'ayer',
        })}`,
      );
      t.is(bad.status, 400);
      for (const field of ['type', 'user', 'organization', 'from', 'to']) {
        t.regex(bad.body, new RegExp(`id="${field}"[^>]*aria-invalid="true" aria-describedby="${field}-error"`), field);
        t.regex(bad.body, new RegExp(`<p id="${field}-error" class="error">`), field);
      }
      t.regex(bad.body, /value="Sign In!"/, 'typed values are kept');
      t.notRegex(bad.body, /data-event="/);
      const range = await browser.open(`${world.server.issuer}/admin/audit?from=2026-12-01T10:00&to=2026-12-01T09:00`);
      t.is(range.status, 400);
      t.regex(range.body, /Tiene que ser posterior a «Desde»/);
    },
  );
}
