import test from 'ava';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { AdminScope } from '../../src/admin-api/admin-scopes.ts';
import { FactorRepository } from '../../src/mfa/factor-repository.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import type { AdministrativeOrigin } from '../../src/users/admin-user.ts';
import { type AccountWorld, accountWorlds, PASSWORD } from '../account/account-fixture.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { STORES } from '../support/stores.ts';

const accountWorld = accountWorlds(test);
const OPERATOR: AdministrativeOrigin = { actor: { kind: 'operator', id: 'maria' }, via: 'console', ip: '203.0.113.9' };
const spanish = () => new HttpBrowser({ 'accept-language': 'es' });

/** Signs `browser` in to the portal; the tokens and the ID token's sid. */
async function portalSignIn({ rp }: AccountWorld, browser: HttpBrowser) {
  const { request, callback } = await rp.signIn(browser, 'ana@example.com', PASSWORD);
  const tokens = await rp.exchange(callback.url, request);
  return { tokens, sid: tokens.claims()!['sid'] as string };
}

async function auditOf(server: AccountWorld['server'], userId: string) {
  await server.umbral.audit.flush();
  return (await server.umbral.audit.query({ userId })).events.reverse();
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] a disabled user cannot sign in, their refresh token and userinfo fail, their portal hears the logout; enable restores sign-in`,
    async (t) => {
      const world = await accountWorld(kind);
      const { server, rp, receiver, user } = world;
      const admin = server.umbral.userAdministration;
      const browser = spanish();
      const signedIn = await portalSignIn(world, browser);

      const disabled = await admin.disable({ email: 'ANA@example.com' }, OPERATOR);
      t.like(disabled, { changed: true, sessionsEnded: 1, user: { disabled: true } });
      const [logout] = await receiver.waitFor(1);
      t.is(decodeJwt(logout!)['sid'], signedIn.sid, 'the portal is told which session ended');
      await t.throwsAsync(rp.refresh(signedIn.tokens.refresh_token!), undefined, 'the refresh token fails');
      await t.throwsAsync(oidc.fetchUserInfo(rp.config, signedIn.tokens.access_token, user.id), undefined, 'userinfo');
      const silent = await browser.open((await rp.authorizationRequest({ prompt: 'none' })).url, rp.redirectUri);
      t.is(new URL(silent.url).searchParams.get('error'), 'login_required', 'the old browser is not signed in');

      // The right password is told the account is disabled; a wrong one reads like any other.
      const right = await rp.signIn(spanish(), 'ana@example.com', PASSWORD);
      t.regex(right.callback.body, /Esta cuenta está desactivada/);
      const wrong = await rp.signIn(spanish(), 'ana@example.com', 'not the password at all');
      t.regex(wrong.callback.body, /El correo electrónico o la contraseña no son correctos/);
      t.notRegex(wrong.callback.body, /desactivada/);
      t.false((await admin.disable({ id: user.id }, OPERATOR)).changed, 'disabling twice changes nothing');

      t.like(await admin.enable({ email: 'ana@example.com' }, OPERATOR), { changed: true, user: { disabled: false } });
      const again = spanish();
      const back = await portalSignIn(world, again);
      t.truthy(back.tokens.access_token, 'enabled: the password signs in again');

      // A session that outlived its account's disabling (here, set behind the service's back) asks for a login.
      await server.umbral.storage.db.updateTable('users').set({ disabled: true }).where('id', '=', user.id).execute();
      const stale = await again.open((await rp.authorizationRequest({ prompt: 'none' })).url, rp.redirectUri);
      t.is(new URL(stale.url).searchParams.get('error'), 'login_required');

      const events = await auditOf(server, user.id);
      const seen = events.map((e) => [e.type, e.actor.kind, e.actor.id, e.data['reason'] ?? e.data['via'] ?? null]);
      t.deepEqual(seen, [
        ['sign_in.succeeded', 'user', user.id, null],
        ['session.ended', 'operator', 'maria', 'ended_by_administrator'],
        ['user.disabled', 'operator', 'maria', 'console'],
        ['sign_in.failed', 'user', user.id, 'disabled'],
        ['sign_in.failed', 'user', user.id, 'disabled'],
        ['user.enabled', 'operator', 'maria', 'console'],
        ['sign_in.succeeded', 'user', user.id, null],
      ]);
      const signIns = await admin.signInEvents({ email: 'ana@example.com' }, { limit: 3 });
      t.deepEqual(
        signIns.events.map((e) => [e.type, e.data['method'] ?? e.data['amr']]),
        [
          ['sign_in.succeeded', ['pwd']],
          ['sign_in.failed', 'pwd'],
          ['sign_in.failed', 'pwd'],
        ],
        'newest first, sign-ins only',
      );
      const older = await admin.signInEvents({ id: user.id }, { cursor: signIns.nextCursor });
      t.deepEqual(
        older.events.map((e) => e.type),
        ['sign_in.succeeded'],
      );
      await t.throwsAsync(admin.signInEvents({ id: user.id }, { cursor: '!!' }), { message: /cursor is not one/ });
      const disabling = events.find((e) => e.type === 'user.disabled')!;
      t.is(disabling.ip, '203.0.113.9');
      t.like(disabling.data, { via: 'console', sessions_ended: 1 });
      t.is(disabling.data['revoked_rows'], 0, "the session's grant and tokens went with it; nothing else was left");
    },
  );

  test.serial(
    `[${kind}] remove is refused for an organization's only admin, then deletes the user's tokens, factors and memberships`,
    async (t) => {
      const world = await accountWorld(kind);
      const { server, rp, receiver, user } = world;
      const { db } = server.umbral.storage;
      const admin = server.umbral.userAdministration;
      const signedIn = await portalSignIn(world, spanish());
      const org = await new OrganizationRepository(db).create({
        name: 'Acme',
        slug: 'acme',
        activatesAt: new Date(Date.now() - 3600_000),
      });
      const memberships = new MembershipRepository(db);
      await memberships.join({ organizationId: org.row.id, userId: user.id, roles: ['admin'], invitedBy: 'operator' });
      await new FactorRepository(db).addSms(user.id, '+5215512345678');
      await db
        .insertInto('sign_in_events')
        .values({
          user_id: user.id,
          organization_id: org.row.id,
          client_id: 'crm',
          method: 'password',
          occurred_at: new Date(),
        })
        .execute();
      const lastSignIn = () =>
        db
          .selectFrom('organization_member_sign_ins')
          .select('organization_id')
          .where('user_id', '=', user.id)
          .execute();
      t.deepEqual(await lastSignIn(), [{ organization_id: org.row.id }]);

      const refused = await t.throwsAsync(admin.remove({ email: 'ana@example.com' }, OPERATOR));
      t.regex(refused.message, /ana@example.com is the only admin of "Acme" \(.+\): make another member admin first/);
      t.like(refused, { problem: 'conflict' });
      t.truthy(await server.users.findById(user.id), 'nothing changed');
      t.truthy((await rp.refresh(signedIn.tokens.refresh_token!)).access_token, 'their tokens still work');
      t.is(receiver.tokens.length, 0);

      const bea = await server.users.create({ email: 'bea@example.com', password: PASSWORD, emailVerified: true });
      await memberships.join({ organizationId: org.row.id, userId: bea.id, roles: ['admin'], invitedBy: 'operator' });
      const removed = await admin.remove({ email: 'ana@example.com' }, OPERATOR);
      t.like(removed, { sessionsEnded: 1, memberships: 1, user: { email: 'ana@example.com' } });
      await receiver.waitFor(1);
      await t.throwsAsync(rp.refresh(signedIn.tokens.refresh_token!));
      t.is(await server.users.findById(user.id), undefined);
      const left = await db
        .selectFrom('oidc_models')
        .select('model')
        .where('account_id', '=', user.id)
        .where('model', '!=', 'Interaction')
        .execute();
      t.deepEqual(left, [], 'no session, grant or token of theirs is left');
      t.deepEqual(await memberships.members(org.row.id).then((m) => m.map((x) => x.email)), ['bea@example.com']);
      t.false(await new FactorRepository(db).hasFactors(user.id));
      t.deepEqual(await lastSignIn(), [], 'nor their last sign-in at the company');
      const [deleted] = (await auditOf(server, user.id)).filter((e) => e.type === 'user.deleted');
      t.like(deleted, { actor: { kind: 'operator', id: 'maria' }, data: { email: 'ana@example.com', memberships: 1 } });
    },
  );

  test.serial(`[${kind}] search pages by email or name; bad input is refused with its field`, async (t) => {
    const { server } = await accountWorld(kind);
    const admin = server.umbral.userAdministration;
    for (const [email, name] of [
      ['bruno@example.com', 'Bruno Díaz'],
      ['carla@example.com', 'Carla Pérez'],
      ['dario@example.org', null],
    ] as const) {
      await admin.create({ email, name: name ?? undefined, password: PASSWORD }, OPERATOR);
    }
    const first = await admin.search({ query: 'PÉREZ', limit: 1 });
    t.deepEqual(
      first.users.map((u) => u.email),
      ['ana@example.com'],
    );
    const second = await admin.search({ query: 'pérez', limit: 1, cursor: first.nextCursor });
    t.deepEqual(
      second.users.map((u) => u.email),
      ['carla@example.com'],
    );
    t.is(second.nextCursor, undefined);
    t.deepEqual(
      (await admin.search({ query: '.org' })).users.map((u) => u.email),
      ['dario@example.org'],
    );
    t.false(JSON.stringify(await admin.search({})).includes('argon2'), 'no password hash');

    const refusals: Array<[() => Promise<unknown>, string, string]> = [
      [() => admin.search({ limit: 0 }), 'limit', 'invalid'],
      [() => admin.search({ cursor: 'not-ours' }), 'cursor', 'invalid'],
      [() => admin.create({ email: 'nope', password: PASSWORD }, OPERATOR), 'email', 'invalid'],
      [() => admin.create({ email: 'eva@example.com', password: 'short' }, OPERATOR), 'password', 'invalid'],
      [() => admin.create({ email: 'Bruno@Example.com', password: PASSWORD }, OPERATOR), 'email', 'conflict'],
      [() => admin.update({ email: 'bruno@example.com' }, { phone: '5512345678' }, OPERATOR), 'phone', 'invalid'],
      [
        () => admin.update({ email: 'bruno@example.com' }, { email: 'CARLA@example.com' }, OPERATOR),
        'email',
        'conflict',
      ],
      [() => admin.update({ email: 'bruno@example.com' }, { name: 'x'.repeat(201) }, OPERATOR), 'name', 'invalid'],
    ];
    for (const [call, field, problem] of refusals) {
      const error = await t.throwsAsync(call());
      t.like(error, { field, problem }, error.message);
    }
    await t.throwsAsync(admin.show({ email: 'nadie@example.com' }), {
      message: 'no user with email nadie@example.com',
    });
    const bruno = await admin.show({ email: 'bruno@example.com' });
    t.like(bruno, { name: 'Bruno Díaz', phone: null, email_verified: false, sessions: 0, organizations: [] });
    t.is((await admin.search({})).users.length, 4, 'nothing was created');

    const updated = await admin.update(
      { email: 'bruno@example.com' },
      { name: '  Bruno   Díaz Ruiz ', phone: '+5215512345678', email: 'bruno.diaz@example.com' },
      OPERATOR,
    );
    t.like(updated, { name: 'Bruno Díaz Ruiz', phone: '+5215512345678', email: 'bruno.diaz@example.com' });
    await new FactorRepository(server.umbral.storage.db).addSms(updated.id, '+5215512345678');
    await server.umbral.storage.db
      .updateTable('users')
      .set({ time_zone: 'America/Mexico_City' })
      .where('id', '=', updated.id)
      .execute();
    t.like(await admin.resetFactors({ id: updated.id }, OPERATOR), { factorsRemoved: 1 });
    t.false(await new FactorRepository(server.umbral.storage.db).hasFactors(updated.id));
    await server.umbral.mailer.drain();
    const told = await server.umbral.storage.db
      .selectFrom('mail_queue')
      .select(['template', 'text_body'])
      .where('to_address', '=', 'bruno.diaz@example.com')
      .execute();
    t.deepEqual(
      told.map((m) => m.template),
      ['mfa-reset'],
      'the owner is told',
    );
    // Told outside any request of theirs: the time in their stored zone (Mexico City is UTC-6, no DST).
    t.regex(told[0]!.text_body ?? '', /\d \(GMT-6\)/);
    const [change] = (await auditOf(server, updated.id)).filter((e) => e.type === 'user.updated');
    const [reset] = (await auditOf(server, updated.id)).filter((e) => e.type === 'mfa.reset');
    t.like(reset, { actor: { kind: 'operator', id: 'maria' }, ip: '203.0.113.9' });
    t.like(change!.data, {
      changes: { email: { from: 'bruno@example.com', to: 'bruno.diaz@example.com' }, name: { to: 'Bruno Díaz Ruiz' } },
    });
  });
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] a refused passkey sign-in is recorded for the passkey's owner, an unknown one for no one`,
    async (t) => {
      const { server, rp, user } = await accountWorld(kind);
      await new FactorRepository(server.umbral.storage.db).addPasskey(user.id, {
        label: 'Llave',
        credentialId: 'credencial-de-ana',
        publicKey: new Uint8Array([1, 2, 3]),
        signCount: 0,
        transports: [],
        deviceType: 'singleDevice',
        backedUp: false,
      });
      for (const id of ['credencial-de-ana', 'credencial-de-nadie']) {
        const browser = spanish();
        const login = await browser.open((await rp.authorizationRequest()).url, rp.redirectUri);
        // An assertion without its challenge: it cannot verify, whoever's passkey it names.
        const credential = JSON.stringify({ id, rawId: id, type: 'public-key', response: {} });
        const refused = await browser.submit(login, '/passkey', { credential });
        t.regex(refused.url, /passkey=failed/);
      }
      await server.umbral.audit.flush();
      const failures = (await server.umbral.audit.query({ type: 'sign_in.failed' })).events.reverse();
      t.deepEqual(
        failures.map((e) => [e.subjectUserId, e.actor.kind, e.data['method'], e.data['reason']]),
        [
          [user.id, 'user', 'passkey', 'challenge'],
          [null, 'system', 'passkey', 'challenge'],
        ],
      );
    },
  );
}

/** A client registered once per server with these admin scopes, and a client_credentials token of it. */
const adminClients = new WeakMap<object, Map<string, string>>();
async function adminToken(server: AccountWorld['server'], clientId: string, scopes: AdminScope[]): Promise<string> {
  const known = adminClients.get(server) ?? new Map<string, string>();
  adminClients.set(server, known);
  let secret = known.get(clientId);
  if (!secret) {
    const client = await server.registerClient({
      clientId,
      grantTypes: ['client_credentials'],
      firstParty: false,
      adminScopes: scopes,
    });
    secret = client.client_secret!;
    known.set(clientId, secret);
  }
  const config = await oidc.discovery(new URL(server.issuer), clientId, secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  return (await oidc.clientCredentialsGrant(config, { resource: 'urn:umbral:admin' })).access_token;
}

async function api(
  server: AccountWorld['server'],
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${server.issuer}/api/admin/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the answers' fields and asserts on them
    json: (text ? JSON.parse(text) : undefined) as any,
  };
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] Admin API: an automation client finds a user, reads their sign-ins and disables them; bad input is problem+json and changes nothing`,
    async (t) => {
      const world = await accountWorld(kind);
      const { server, rp, receiver, user } = world;
      const signedIn = await portalSignIn(world, spanish());
      await rp.signIn(spanish(), 'ana@example.com', 'not the password at all');
      const reader = await adminToken(server, 'helpdesk-reader', ['users:read']);
      const writer = await adminToken(server, 'helpdesk', ['users:read', 'users:write']);

      const found = await api(server, reader, 'GET', '/users?query=P%C3%A9rez');
      t.is(found.status, 200);
      t.deepEqual(
        found.json.items.map((u: { id: string }) => u.id),
        [user.id],
      );
      const signIns = await api(server, reader, 'GET', `/users/${user.id}/sign-in-events`);
      t.deepEqual(
        signIns.json.items.map((e: { type: string }) => e.type),
        ['sign_in.failed', 'sign_in.succeeded'],
      );
      t.like(signIns.json.items[0], { subject_user_id: user.id, data: { method: 'pwd', reason: 'wrong_password' } });

      const forbidden = await api(server, reader, 'POST', `/users/${user.id}/disable`);
      t.is(forbidden.status, 403);
      const bad: Array<[string, string, unknown, number, string]> = [
        ['POST', '/users', { email: 'nope', password: PASSWORD }, 400, '/email'],
        ['POST', '/users', { email: 'ANA@example.com', password: PASSWORD }, 409, ''],
        ['POST', '/users', { email: 'eva@example.com', password: 'short' }, 400, '/password'],
        ['PATCH', `/users/${user.id}`, { phone: '5512345678' }, 400, '/phone'],
        ['PATCH', `/users/${user.id}`, { colour: 'blue' }, 400, ''],
        ['PATCH', `/users/${user.id}`, { phone_verified: true }, 400, '/phone_verified'],
        ['GET', '/users?cursor=zzz', undefined, 400, '/cursor'],
        ['GET', '/users?limit=0', undefined, 400, '/limit'],
        ['POST', '/users/no-such-user/disable', undefined, 404, ''],
        ['DELETE', `/users/${user.id}/sessions/no-such-session`, undefined, 404, ''],
      ];
      for (const [method, path, body, status, pointer] of bad) {
        const answer = await api(server, writer, method, path, body);
        t.is(answer.status, status, `${method} ${path} ${JSON.stringify(answer.json)}`);
        t.is(answer.type, 'application/problem+json');
        if (pointer) t.is(answer.json.errors?.[0]?.pointer, pointer, `${method} ${path}`);
      }
      t.deepEqual(
        (await server.users.list()).map((u) => [u.email, u.phone, u.disabled]),
        [['ana@example.com', null, false]],
        'nothing changed',
      );

      // Two operators editing one user: the second, with what it read before the first's change, gets 412.
      const read = await fetch(`${server.issuer}/api/admin/v1/users/${user.id}`, {
        headers: { authorization: `Bearer ${reader}` },
      });
      const version = read.headers.get('etag')!;
      await read.body?.cancel();
      const renamed = await api(
        server,
        writer,
        'PATCH',
        `/users/${user.id}`,
        { name: 'Ana María Pérez' },
        {
          'if-match': version,
        },
      );
      t.is(renamed.status, 200);
      t.is(renamed.json.name, 'Ana María Pérez');
      const late = await api(server, writer, 'PATCH', `/users/${user.id}`, { name: 'Ana P.' }, { 'if-match': version });
      t.is(late.status, 412);
      t.is(late.type, 'application/problem+json');
      t.is((await server.users.findById(user.id))?.name, 'Ana María Pérez');

      const sessions = await api(server, reader, 'GET', `/users/${user.id}/sessions`);
      t.is(sessions.json.items.length, 1);
      const disabled = await api(server, writer, 'POST', `/users/${user.id}/disable`);
      t.is(disabled.status, 200);
      t.like(disabled.json, { changed: true, sessions_ended: 1, user: { disabled: true } });
      await receiver.waitFor(1);
      await t.throwsAsync(rp.refresh(signedIn.tokens.refresh_token!));
      const shown = await api(server, reader, 'GET', `/users/${user.id}`);
      t.like(shown.json, { disabled: true, sessions: 0, has_password: true });
      t.false(JSON.stringify(shown.json).includes('argon2'));

      await server.umbral.audit.flush();
      const [change] = (await server.umbral.audit.query({ userId: user.id, type: 'user.disabled' })).events;
      t.like(change, { actor: { kind: 'client', id: 'helpdesk' }, data: { via: 'api' } });
    },
  );
}
