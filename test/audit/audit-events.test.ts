import test from 'ava';
import { generate } from 'otplib';
import type { AuditEvent } from '../../src/audit/audit-log.ts';
import { inStore, runUmbral } from '../cli/umbral-cli.ts';
import { resetServer } from '../support/empty-store.ts';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { worldsPerFile } from '../support/worlds-per-file.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'correct horse battery';
const USER_AGENT = 'AuditTest/1.0 (X11; Linux)';

interface World {
  server: RunningUmbral;
  rp: RelyingParty;
}

const world = worldsPerFile<StoreKind, World>(test, async (kind) => {
  const store = await createTestStore(kind);
  const server = await startUmbral(store);
  const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT], name: 'Portal' });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
  return {
    world: { server, rp },
    reset: () => resetServer(server),
    async close() {
      await server.stop();
      await store.cleanup();
    },
  };
});

function browser(): HttpBrowser {
  return new HttpBrowser({ 'accept-language': 'es-MX', 'user-agent': USER_AGENT });
}

async function events(server: RunningUmbral, type?: string): Promise<AuditEvent[]> {
  await server.umbral.audit.flush();
  return (await server.umbral.audit.query(type ? { type } : {})).events;
}

/** Every stored event as text: no secret may appear in it. */
async function storedText(server: RunningUmbral): Promise<string> {
  await server.umbral.audit.flush();
  return JSON.stringify(await server.umbral.storage.db.selectFrom('audit_events').selectAll().execute());
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a password sign-in is recorded once, with its method, portal, actor, IP and user agent`,
    async (t) => {
      const { server, rp } = await world(kind);
      const user = await server.users.create({ email: 'ana@example.com', password: PASSWORD, emailVerified: true });
      const { callback } = await rp.signIn(browser(), 'ana@example.com', PASSWORD);
      t.true(callback.url.startsWith(REDIRECT) || (callback.headers.get('location') ?? '').startsWith(REDIRECT));

      const signIns = await events(server, 'sign_in.succeeded');
      t.is(signIns.length, 1);
      const [event] = signIns;
      t.deepEqual(event!.actor, { kind: 'user', id: user.id });
      t.is(event!.subjectUserId, user.id);
      t.is(event!.ip, '127.0.0.1');
      t.is(event!.userAgent, USER_AGENT);
      t.deepEqual(event!.data, { amr: ['pwd'], acr: 'urn:umbral:acr:sfa', portal: 'portal' });
      t.false((await storedText(server)).includes(PASSWORD), 'the password is nowhere in the log');
    },
  );

  test.serial(
    `[${kind}] failed sign-ins: tied to the account when the email has one, to no one otherwise`,
    async (t) => {
      const { server, rp } = await world(kind);
      const user = await server.users.create({ email: 'ana@example.com', password: PASSWORD, emailVerified: true });
      const wrongPassword = 'not the password 123';
      await rp.signIn(browser(), 'ana@example.com', wrongPassword);
      await rp.signIn(browser(), 'nadie@example.com', wrongPassword);

      const failures = await events(server, 'sign_in.failed');
      t.is(failures.length, 2);
      const unknown = failures.find((e) => e.data['reason'] === 'unknown_account')!;
      const wrong = failures.find((e) => e.data['reason'] === 'wrong_password')!;
      t.is(wrong.subjectUserId, user.id);
      t.deepEqual(wrong.actor, { kind: 'user', id: user.id });
      t.is(unknown.subjectUserId, null);
      t.deepEqual(unknown.actor, { kind: 'system', id: null });
      for (const failure of failures) {
        t.is(failure.ip, '127.0.0.1');
        t.is(failure.userAgent, USER_AGENT);
        t.is(failure.data['portal'], 'portal');
      }
      t.deepEqual(await events(server, 'sign_in.succeeded'), []);
      const text = await storedText(server);
      t.false(text.includes(wrongPassword), 'the typed password is nowhere in the log');
      t.false(text.includes('nadie@example.com'), 'nor an email without an account');
    },
  );

  test.serial(`[${kind}] a second factor added on the account page, then used to sign in`, async (t) => {
    const { server } = await world(kind);
    const user = await server.users.create({ email: 'ana@example.com', password: PASSWORD, emailVerified: true });
    const b = browser();
    const identifier = await b.open(`${server.issuer}/account/security`);
    const security = (await submitCredentials(b, identifier, 'ana@example.com', PASSWORD)).next;
    const setup = await b.submit(security, '/account/security/totp', {});
    const secret = setupKeyOf(setup);
    const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 });
    await b.submit(setup, '/totp/confirm', { code, label: 'Mi iPhone' });

    const added = await events(server, 'mfa.factor_added');
    t.is(added.length, 1);
    t.deepEqual(added[0]!.actor, { kind: 'user', id: user.id });
    t.is(added[0]!.subjectUserId, user.id);
    t.is(added[0]!.ip, '127.0.0.1');
    t.is(added[0]!.userAgent, USER_AGENT);
    t.regex(String(added[0]!.data['label']), /Mi iPhone/);

    // A sign-in from another browser now wants the factor (this one's session counts it as proven):
    // the code is recorded as used, and the sign-in with it.
    const other = browser();
    const again = await other.open(`${server.issuer}/account/security`);
    const factorPage = (await submitCredentials(other, again, 'ana@example.com', PASSWORD)).next;
    await other.submit(factorPage, '/mfa/totp', { code: await generate({ secret }) });
    const used = await events(server, 'mfa.used');
    t.is(used.length, 1);
    t.like(used[0]!.data, { method: 'otp', via: 'factor' });
    const signIns = await events(server, 'sign_in.succeeded');
    t.deepEqual(signIns[0]!.data['amr'], ['pwd', 'otp', 'mfa']);
    const text = await storedText(server);
    t.false(text.includes(secret), 'the authenticator secret is nowhere in the log');
    t.false(text.includes(code), 'nor a code');
  });
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] an operator's CLI change is recorded with the operator as actor`, async (t) => {
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const env = { ...store.env, ISSUER: 'http://localhost:4123', USER: 'maria' };
    const role = await runUmbral(['roles', 'add', '--name', 'auditor', '--permission', 'audit:read'], { env });
    t.is(role.code, 0, role.stderr);
    const org = await runUmbral(['orgs', 'add', '--name', 'Acme', '--slug', 'acme'], { env });
    t.is(org.code, 0, org.stderr);
    const { id } = JSON.parse(org.stdout) as { id: string };
    const client = await runUmbral(
      ['clients', 'add', '--client-id', 'crm', '--redirect-uri', 'https://crm.example/cb'],
      { env },
    );
    t.is(client.code, 0, client.stderr);
    const secret = (JSON.parse(client.stdout) as { client_secret: string }).client_secret;
    const user = await runUmbral(
      ['users', 'add', '--email', 'ana@acme.example', '--password', 'luna llena sobre el volcán'],
      {
        env,
      },
    );
    t.is(user.code, 0, user.stderr);
    const userId = (JSON.parse(user.stdout) as { id: string }).id;

    const rows = await inStore(store, (db) =>
      db.selectFrom('audit_events').selectAll().orderBy('occurred_at').execute(),
    );
    t.deepEqual(
      rows.map((r) => [r.type, r.actor_kind, r.actor_id, r.organization_id, r.ip]),
      [
        ['operator.role_added', 'operator', 'maria', null, null],
        ['operator.org_added', 'operator', 'maria', id, null],
        ['client.added', 'operator', 'maria', null, null],
        ['user.created', 'operator', 'maria', null, null],
      ],
    );
    t.like(rows[2]!.data as Record<string, unknown>, { command: 'clients add', clientId: 'crm' });
    t.is(rows[3]!.subject_user_id, userId);
    const stored = JSON.stringify(rows);
    t.false(stored.includes(secret), 'the client secret is not in the audit log');
    t.false(stored.includes('luna llena'), 'nor the password');
    t.like(rows[0]!.data as Record<string, unknown>, { command: 'roles add', role: 'auditor' });
    t.like(rows[1]!.data as Record<string, unknown>, { command: 'orgs add' });
  });
}

function setupKeyOf(page: Page): string {
  const match = /<code id="setup-key">([A-Z2-7 ]+)<\/code>/.exec(page.body);
  if (!match) throw new Error('no setup key on the page');
  return match[1]!.replace(/ /g, '');
}
