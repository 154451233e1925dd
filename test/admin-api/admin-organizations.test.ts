import test from 'ava';
import * as oidc from 'openid-client';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { JOURNEY_STORES, type StoreKind } from '../support/stores.ts';
import { worldsPerFile } from '../support/worlds-per-file.ts';
import { type AdminWorld, startAdminWorld } from './admin-world.ts';

const PASSWORD = 'correct horse battery';
const REDIRECT = 'http://127.0.0.1:9/console/cb';
const ALL_SCOPES = [
  'clients:read',
  'clients:write',
  'users:read',
  'users:write',
  'orgs:read',
  'orgs:write',
  'roles:write',
  'keys:write',
  'audit:read',
  'webhooks:write',
] as const;

const world = worldsPerFile<StoreKind, AdminWorld>(test, startAdminWorld);

async function company(w: AdminWorld, slug: string) {
  return new OrganizationRepository(w.server.umbral.storage.db).create({
    name: `Company ${slug}`,
    slug,
    activatesAt: new Date(Date.now() - 3600_000),
  });
}

async function member(w: AdminWorld, organizationId: string, email: string, roles: string[]) {
  const user = await w.server.users.create({
    email,
    password: PASSWORD,
    emailVerified: true,
    name: email.split('@')[0],
  });
  await new MembershipRepository(w.server.umbral.storage.db).join({
    organizationId,
    userId: user.id,
    roles,
    invitedBy: 'operator',
  });
  return user;
}

/** The company console portal's secret, per server: registered once (the provider caches clients). */
const consoleSecrets = new Map<string, string>();

/** A person's Admin API token: authorization code with org:admin, organization=<id> and resource=urn:umbral:admin. */
async function companyAdminToken(w: AdminWorld, email: string, organizationId: string): Promise<string> {
  let secret = consoleSecrets.get(w.server.issuer);
  if (!secret) {
    const portal = await w.server.registerClient({ clientId: 'console', redirectUris: [REDIRECT], firstParty: true });
    secret = portal.client_secret!;
    consoleSecrets.set(w.server.issuer, secret);
    w.keepClient('console', secret);
  }
  const rp = await RelyingParty.discover(w.server.issuer, 'console', secret, REDIRECT);
  const params = { scope: 'openid org:admin', organization: organizationId, resource: 'urn:umbral:admin' };
  const { request, callback } = await rp.signIn(new HttpBrowser(), email, PASSWORD, params);
  const tokens = await oidc.authorizationCodeGrant(
    rp.config,
    new URL(callback.url),
    { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce },
    { resource: 'urn:umbral:admin' },
  );
  return tokens.access_token;
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] a company admin's token manages its own organization, and no other`, async (t) => {
    const w = await world(kind);
    const acme = await company(w, 'acme');
    const globex = await company(w, 'globex');
    const ana = await member(w, acme.row.id, 'ana@acme.example', ['admin']);
    const bob = await member(w, acme.row.id, 'bob@acme.example', ['member']);
    const token = await companyAdminToken(w, 'ana@acme.example', acme.row.id);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    t.like(claims, { aud: 'urn:umbral:admin', scope: 'org:admin', sub: ana.id, org_id: acme.row.id });

    const own = await w.call('GET', `/organizations/${acme.row.id}`, { token });
    t.is(own.status, 200, own.text);
    t.is(own.json.slug, 'acme');
    const members = await w.call('GET', `/organizations/${acme.row.id}/members`, { token });
    t.deepEqual(members.json.items.map((m: { email: string }) => m.email).sort(), [
      'ana@acme.example',
      'bob@acme.example',
    ]);
    const first = await w.call('GET', `/organizations/${acme.row.id}/members?limit=1`, { token });
    const second = await w.call(
      'GET',
      `/organizations/${acme.row.id}/members?limit=1&cursor=${first.json.next_cursor}`,
      {
        token,
      },
    );
    t.is(second.json.next_cursor, undefined, 'the last page');
    t.deepEqual(
      [...first.json.items, ...second.json.items].map((m: { email: string }) => m.email).sort(),
      ['ana@acme.example', 'bob@acme.example'],
      'two pages of one, each member once',
    );
    const invited = await w.call('POST', `/organizations/${acme.row.id}/invitations`, {
      token,
      body: { email: 'carla@acme.example' },
    });
    t.is(invited.status, 201, invited.text);

    for (const [method, path, body] of [
      ['GET', `/organizations/${globex.row.id}`, undefined],
      ['GET', `/organizations/${globex.row.id}/members`, undefined],
      ['POST', `/organizations/${globex.row.id}/invitations`, { email: 'eve@acme.example' }],
      ['PATCH', `/organizations/${acme.row.id}`, { seat_limit: 1000 }],
      ['DELETE', `/organizations/${acme.row.id}`, undefined],
      ['GET', '/organizations', undefined],
      ['GET', '/clients', undefined],
      ['GET', '/audit-events', undefined],
    ] as const) {
      const answer = await w.call(method, path, { token, body });
      t.is(answer.status, 403, `${method} ${path}`);
      t.is(answer.json.type, 'urn:umbral:problem:forbidden');
    }
    t.is((await w.call('GET', `/organizations/${globex.row.id}/invitations`, { token })).status, 403);
    const globexInvitations = await w.server.umbral.storage.db
      .selectFrom('organization_invitations')
      .select('email')
      .where('organization_id', '=', globex.row.id)
      .execute();
    t.deepEqual(globexInvitations, [], 'nothing reached the other organization');

    await w.server.umbral.audit.flush();
    const [event] = (await w.server.umbral.audit.query({ type: 'org.invited' })).events;
    t.deepEqual(event!.actor, { kind: 'user', id: ana.id }, 'audited with the company admin as actor');
    t.is(event!.organizationId, acme.row.id);

    const bobToken = await companyAdminToken(w, 'bob@acme.example', acme.row.id);
    t.is(
      (await w.call('GET', `/organizations/${acme.row.id}`, { token: bobToken })).status,
      403,
      'a member, not admin',
    );
    // The admin role is checked at every call: the same tokens change standing with it.
    const memberships = new MembershipRepository(w.server.umbral.storage.db);
    await memberships.setRoles(acme.row.id, bob.id, ['admin'], new Date());
    await memberships.setRoles(acme.row.id, ana.id, ['member'], new Date());
    t.is((await w.call('GET', `/organizations/${acme.row.id}`, { token })).status, 403, 'ana, no longer admin');
    t.is((await w.call('GET', `/organizations/${acme.row.id}`, { token: bobToken })).status, 200, 'bob, admin now');
  });

  test.serial(`[${kind}] a third-party portal cannot ask Admin API power for a person`, async (t) => {
    const w = await world(kind);
    const redirect = 'http://127.0.0.1:9/third/cb';
    if (!consoleSecrets.has(`third:${w.server.issuer}`)) {
      const third = await w.server.registerClient({ clientId: 'third', redirectUris: [redirect], firstParty: false });
      consoleSecrets.set(`third:${w.server.issuer}`, third.client_secret!);
      w.keepClient('third', third.client_secret!);
    }
    const rp = await RelyingParty.discover(
      w.server.issuer,
      'third',
      consoleSecrets.get(`third:${w.server.issuer}`),
      redirect,
    );
    const { url } = await rp.authorizationRequest({ scope: 'openid org:admin', resource: 'urn:umbral:admin' });
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location') ?? '', w.server.issuer);
    t.is(location.searchParams.get('error'), 'invalid_target');
    t.is(
      location.searchParams.get('error_description'),
      'only first-party portals may ask for Admin API tokens for a person',
    );
  });

  test.serial(
    `[${kind}] organizations, roles and domain routes through the API, audited with the client`,
    async (t) => {
      const w = await world(kind);
      const token = await w.token(await w.adminClient('automation-all', [...ALL_SCOPES]));
      const created = await w.call('POST', '/organizations', {
        token,
        body: { name: 'Initech S.A.', country: 'CL', legal_name: 'Initech Chile SpA', employee_band: '11-50' },
      });
      t.is(created.status, 201, created.text);
      t.like(created.json, { slug: 'initech-s-a', status: 'active', country: 'CL', legal_name: 'Initech Chile SpA' });
      const id = created.json.id as string;
      const badTaxId = await w.call('POST', '/organizations', {
        token,
        body: { name: 'Globex', country: 'AR', tax_id: '30-50001091-3' },
      });
      t.is(badTaxId.status, 400);
      t.deepEqual(
        badTaxId.json.errors.map((e: { pointer: string }) => e.pointer),
        ['/tax_id'],
        'the field at fault',
      );
      const etag = created.headers.get('etag')!;
      const changed = await w.call('PATCH', `/organizations/${id}`, {
        token,
        body: { seat_limit: 5 },
        headers: { 'if-match': etag },
      });
      t.is(changed.status, 200, changed.text);
      t.is(changed.json.seat_limit, 5);
      const stale = await w.call('PATCH', `/organizations/${id}`, {
        token,
        body: { seat_limit: 9 },
        headers: { 'if-match': etag },
      });
      t.is(stale.status, 412);
      const suspended = await w.call('POST', `/organizations/${id}/suspension`, { token });
      t.is(suspended.json.status, 'suspended');
      t.is((await w.call('POST', `/organizations/${id}/suspension`, { token })).status, 409);
      t.is((await w.call('POST', `/organizations/${id}/resumption`, { token })).json.status, 'active');

      const role = await w.call('POST', '/roles', { token, body: { name: 'auditor', permissions: ['audit:read'] } });
      t.is(role.status, 201, role.text);
      t.is((await w.call('POST', '/roles', { token, body: { name: 'auditor' } })).status, 409);
      t.is((await w.call('DELETE', '/roles/admin', { token })).status, 409, 'built in');
      t.is((await w.call('DELETE', '/roles/auditor', { token })).status, 204);

      const route = await w.call('POST', '/domain-routes', { token, body: { domain: 'Acme.COM', provider: 'google' } });
      t.is(route.status, 201, route.text);
      t.is(route.json.domain, 'acme.com');
      t.is(
        (await w.call('POST', '/domain-routes', { token, body: { domain: 'acme.com', provider: 'microsoft' } })).status,
        409,
      );
      t.is((await w.call('DELETE', '/domain-routes/acme.com', { token })).status, 204);

      const keys = await w.call('GET', '/signing-keys', { token });
      t.true(keys.json.items.length >= 4);
      t.false(keys.text.includes('"d"'), 'no private member');

      await w.server.umbral.audit.flush();
      const events = (await w.server.umbral.audit.query({})).events.filter((e) => e.actor.kind === 'client');
      t.deepEqual(events.map((e) => e.type).reverse(), [
        'org.added',
        'org.updated',
        'org.suspended',
        'org.resumed',
        'role.added',
        'role.removed',
        'domain.added',
        'domain.removed',
      ]);
      t.true(events.every((e) => e.actor.id === 'automation-all'));
      const updated = events.find((e) => e.type === 'org.updated')!;
      t.like(updated.data, { before: { seat_limit: null }, after: { seat_limit: 5 } });
    },
  );
}

const DAY = 24 * 3600_000;

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] organizations through the API as through the CLI: welcomes, moved invitations, seats`,
    async (t) => {
      const w = await world(kind);
      const { db } = w.server.umbral.storage;
      const token = await w.token(await w.adminClient('automation-all', [...ALL_SCOPES]));
      const mails = (to: string) =>
        db.selectFrom('mail_queue').select(['template', 'data']).where('to_address', '=', to).execute();

      // Active at once: each designated admin is mailed the welcome, and the activation is recorded.
      const active = await w.call('POST', '/organizations', {
        token,
        body: {
          name: 'Hooli',
          seat_limit: 3,
          logo_uri: 'https://hooli.example/logo.svg',
          admins: ['gavin@hooli.example', 'GAVIN@hooli.example', 'denpok@hooli.example'],
        },
      });
      t.is(active.status, 201, active.text);
      t.like(active.json, { status: 'active', seat_limit: 3, logo_uri: 'https://hooli.example/logo.svg' });
      const hooli = active.json.id as string;
      for (const admin of ['gavin@hooli.example', 'denpok@hooli.example']) {
        t.deepEqual(
          (await mails(admin)).map((m) => m.template),
          ['organization-welcome'],
          `${admin} is welcomed once (case aside)`,
        );
      }
      const row = await db.selectFrom('organizations').selectAll().where('id', '=', hooli).executeTakeFirstOrThrow();
      t.truthy(row.welcomed_at, 'the activation is recorded as carried out');
      const invited = await w.call('GET', `/organizations/${hooli}/invitations`, { token });
      t.deepEqual(
        invited.json.items
          .map((i: { email: string; designates_admin: boolean; mailed: boolean }) => [
            i.email,
            i.designates_admin,
            i.mailed,
          ])
          .sort(),
        [
          ['denpok@hooli.example', true, true],
          ['gavin@hooli.example', true, true],
        ],
      );

      // A new admin beyond the seats is refused as the CLI refuses it (same reason), and changes nothing.
      const etag = active.headers.get('etag')!;
      const full = await w.call('PATCH', `/organizations/${hooli}`, {
        token,
        body: { seat_limit: 2, admins: ['erlich@hooli.example'] },
        headers: { 'if-match': etag },
      });
      t.is(full.status, 409, full.text);
      t.is(full.headers.get('content-type'), 'application/problem+json');
      t.regex(
        full.json.detail,
        /^Hooli would need 3 seats \(2 taken by members and pending invitations, 1 new admins\): more than 2$/,
      );
      t.deepEqual(
        full.json.errors.map((e: { pointer: string }) => e.pointer),
        ['/admins'],
      );
      const lower = await w.call('PATCH', `/organizations/${hooli}`, {
        token,
        body: { seat_limit: 1 },
        headers: { 'if-match': etag },
      });
      t.is(lower.status, 409);
      t.regex(lower.json.detail, /would need 2 seats/);
      t.deepEqual(
        lower.json.errors.map((e: { pointer: string }) => e.pointer),
        ['/seat_limit'],
      );
      t.deepEqual(await mails('erlich@hooli.example'), []);
      t.is((await w.call('GET', `/organizations/${hooli}`, { token })).headers.get('etag'), etag, 'unchanged');

      // Scheduled: the admin waits; moving the activation moves the waiting link's expiry with it.
      const activatesAt = new Date(w.clock.now() + 30 * DAY);
      const scheduled = await w.call('POST', '/organizations', {
        token,
        body: { name: 'Raviga', activates_at: activatesAt.toISOString(), admins: ['laurie@raviga.example'] },
      });
      t.is(scheduled.status, 201, scheduled.text);
      t.is(scheduled.json.status, 'scheduled');
      const raviga = scheduled.json.id as string;
      const waiting = async () =>
        db
          .selectFrom('organization_invitations')
          .selectAll()
          .where('organization_id', '=', raviga)
          .executeTakeFirstOrThrow();
      const before = await waiting();
      t.is(before.token_hash, null, 'no link before the activation');
      t.deepEqual(await mails('laurie@raviga.example'), []);
      const moved = await w.call('PATCH', `/organizations/${raviga}`, {
        token,
        body: { activates_at: new Date(activatesAt.getTime() + 10 * DAY).toISOString() },
        headers: { 'if-match': scheduled.headers.get('etag')! },
      });
      t.is(moved.status, 200, moved.text);
      t.is(
        new Date((await waiting()).expires_at).getTime() - new Date(before.expires_at).getTime(),
        10 * DAY,
        'the waiting link keeps its week after the new activation',
      );
      // Moved to now: it is active, and the admin is welcomed at once.
      const now = await w.call('PATCH', `/organizations/${raviga}`, {
        token,
        body: { activates_at: new Date(w.clock.now() - 1000).toISOString() },
        headers: { 'if-match': moved.headers.get('etag')! },
      });
      t.is(now.json.status, 'active', now.text);
      t.deepEqual(
        (await mails('laurie@raviga.example')).map((m) => m.template),
        ['organization-welcome'],
      );

      // A welcome held back by a suspension goes when the organization is resumed.
      const held = await w.call('POST', '/organizations', {
        token,
        body: {
          name: 'Pied Piper',
          activates_at: new Date(w.clock.now() + DAY).toISOString(),
          admins: ['richard@piedpiper.example'],
        },
      });
      const piper = held.json.id as string;
      t.is((await w.call('POST', `/organizations/${piper}/suspension`, { token })).status, 200);
      const due = await w.call('PATCH', `/organizations/${piper}`, {
        token,
        body: { activates_at: new Date(w.clock.now() - 1000).toISOString() },
      });
      t.is(due.json.status, 'suspended', due.text);
      t.deepEqual(await mails('richard@piedpiper.example'), [], 'nothing mailed while suspended');
      const refusedInvitation = await w.call('POST', `/organizations/${piper}/invitations`, {
        token,
        body: { email: 'jared@piedpiper.example' },
      });
      t.is(refusedInvitation.status, 409, 'a suspended organization takes no invitations (as in the CLI)');
      t.regex(refusedInvitation.json.detail, /is suspended: it takes no invitations/);
      const resumed = await w.call('POST', `/organizations/${piper}/resumption`, { token });
      t.is(resumed.json.status, 'active', resumed.text);
      t.deepEqual(
        (await mails('richard@piedpiper.example')).map((m) => m.template),
        ['organization-welcome'],
      );

      await w.server.umbral.audit.flush();
      const resumedEvent = (await w.server.umbral.audit.query({ type: 'org.resumed', organizationId: piper })).events;
      t.like(resumedEvent[0]?.data, { mailed: 1 });
      const events = (await w.server.umbral.audit.query({ type: 'org.added' })).events;
      t.like(events.find((e) => e.organizationId === hooli)?.data, { admins: 2, mailed: 2 });
      t.true(events.every((e) => e.actor.kind === 'client' && e.actor.id === 'automation-all'));
    },
  );
}

/** Everything the API could change, as text: a refused request must leave it exactly as it was. */
async function snapshot(w: AdminWorld): Promise<string> {
  const { db } = w.server.umbral.storage;
  await w.server.umbral.audit.flush();
  const tables = [
    'clients',
    'organizations',
    'organization_memberships',
    'organization_invitations',
    'roles',
    'domain_routes',
    'signing_keys',
    'audit_events',
    'admin_idempotency_keys',
    'mail_queue',
    'users',
    'webhook_endpoints',
  ] as const;
  const rows = await Promise.all(tables.map((table) => db.selectFrom(table).selectAll().execute()));
  return JSON.stringify(rows);
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] bad input to every endpoint gives problem+json and changes nothing`, async (t) => {
    const w = await world(kind);
    const token = await w.token(await w.adminClient('automation-all', [...ALL_SCOPES]));
    t.is(
      (
        await w.call('POST', '/clients', {
          token,
          body: { client_id: 'crm', redirect_uris: ['https://crm.example/cb'] },
        })
      ).status,
      201,
    );
    const acme = await company(w, 'acme');
    const ana = await member(w, acme.row.id, 'ana@acme.example', ['admin']);
    const invitation = await w.call('POST', `/organizations/${acme.row.id}/invitations`, {
      token,
      body: { email: 'bo@acme.example' },
    });
    t.is(invitation.status, 201);
    const org = `/organizations/${acme.row.id}`;
    const long = 'x'.repeat(300);
    type Case = [string, string, unknown?, Record<string, string>?];
    const cases: Record<string, Case[]> = {
      listClients: [
        ['GET', '/clients?limit=0'],
        ['GET', '/clients?cursor=%%%'],
        ['GET', '/clients?first_party=maybe'],
      ],
      createClient: [
        ['POST', '/clients', { client_id: 'x y' }],
        ['POST', '/clients', { client_id: 'ok', unknown: 1 }],
        ['POST', '/clients', { client_id: 'ok', redirect_uris: ['not a url'] }],
        ['POST', '/clients', { client_id: 'ok', redirect_uris: ['https://ok.example/cb'], brand_color: '#ffffff' }],
        ['POST', '/clients', { client_id: 'ok', public: true, client_secret: 'x'.repeat(40) }],
        ['POST', '/clients', '{"client_id": '],
        ['POST', '/clients', 'client_id=ok', { 'content-type': 'application/x-www-form-urlencoded' }],
      ],
      getClient: [['GET', `/clients/${long}`]],
      updateClient: [
        ['PATCH', '/clients/crm', {}],
        ['PATCH', '/clients/crm', { client_name: 5 }],
        ['PATCH', '/clients/crm', { brand_color: '#fff000' }],
        ['PATCH', '/clients/crm', { public: true }],
        ['PATCH', '/clients/crm', { redirect_uris: [] }],
      ],
      removeClient: [['DELETE', `/clients/${long}`]],
      rotateClientSecret: [
        ['POST', '/clients/crm/secret-rotations', { keep_old_for_seconds: -1 }],
        ['POST', '/clients/crm/secret-rotations', { keep_old_for_seconds: 'soon' }],
      ],
      listOrganizations: [
        ['GET', '/organizations?limit=abc'],
        ['GET', '/organizations?status=weird'],
      ],
      createOrganization: [
        ['POST', '/organizations', {}],
        ['POST', '/organizations', { name: 'Zeta', country: 'ZZ' }],
        ['POST', '/organizations', { name: 'Zeta', sign_in_methods: ['fax'] }],
        ['POST', '/organizations', { name: 'Zeta', slug: 'Not A Slug' }],
        ['POST', '/organizations', { name: 'Zeta', country: 'AR', tax_id: '30-50001091-3' }],
        ['POST', '/organizations', { name: 'Zeta', country: 'AR', postal_code: '12' }],
        ['POST', '/organizations', { name: 'Zeta', employee_band: 'lots' }],
        ['POST', '/organizations', { name: 'Zeta', microsoft_tenants: ['not-a-guid'] }],
        ['POST', '/organizations', { name: 'Zeta', admins: ['ana@zeta.example', 'nope'] }],
        ['POST', '/organizations', { name: 'Zeta', seat_limit: 1, admins: ['a@zeta.example', 'b@zeta.example'] }],
        ['POST', '/organizations', { name: 'Zeta', ends_at: '2020-01-01T00:00:00Z' }],
        ['POST', '/organizations', { name: 'Zeta', logo_uri: 'ftp://zeta.example/logo.png' }],
        ['POST', '/organizations', { name: 'Zeta', home_client_id: 'nope' }],
      ],
      getOrganization: [['GET', `/organizations/${long}`]],
      updateOrganization: [
        ['PATCH', org, {}],
        ['PATCH', org, { seat_limit: 0 }],
        ['PATCH', org, { ends_at: 'yesterday' }],
        ['PATCH', org, { ends_at: '2020-01-01T00:00:00Z' }],
        ['PATCH', org, { admins: ['not an email'] }],
        ['PATCH', org, { activates_at: 'tomorrow' }],
        ['PATCH', org, { activates_at: '2031-01-01T00:00:00Z', ends_at: '2030-01-01T00:00:00Z' }],
        ['PATCH', org, { logo_uri: 'javascript:alert(1)' }],
      ],
      suspendOrganization: [['POST', `/organizations/${long}/suspension`]],
      resumeOrganization: [['POST', `/organizations/${long}/resumption`]],
      removeOrganization: [['DELETE', `/organizations/${long}`]],
      listOrganizationMembers: [
        ['GET', `/organizations/${long}/members`],
        ['GET', `${org}/members?limit=201`],
      ],
      setOrganizationMemberRoles: [
        ['PUT', `${org}/members/${ana.id}/roles`, { roles: [] }],
        ['PUT', `${org}/members/${ana.id}/roles`, { roles: ['Not Valid'] }],
        ['PUT', `${org}/members/${ana.id}/roles`, { roles: ['ghost'] }],
      ],
      removeOrganizationMember: [['DELETE', `${org}/members/${long}`]],
      listOrganizationInvitations: [
        ['GET', `/organizations/${long}/invitations`],
        ['GET', `${org}/invitations?cursor=x`],
      ],
      inviteToOrganization: [
        ['POST', `${org}/invitations`, { email: 'nope' }],
        ['POST', `${org}/invitations`, { email: 'cy@acme.example', roles: ['ghost'] }],
        ['POST', `${org}/invitations`, { email: 'cy@acme.example', expires_in_seconds: 5 }],
      ],
      revokeOrganizationInvitation: [['DELETE', `${org}/invitations/${long}`]],
      addRole: [
        ['POST', '/roles', { name: 'Bad Name' }],
        ['POST', '/roles', { name: 'ok', permissions: ['bad perm!'] }],
      ],
      removeRole: [['DELETE', `/roles/${long}`]],
      addDomainRoute: [
        ['POST', '/domain-routes', { domain: 'not a domain', provider: 'google' }],
        ['POST', '/domain-routes', { domain: 'acme.com', provider: 'yahoo' }],
      ],
      removeDomainRoute: [['DELETE', '/domain-routes/not_a_domain!']],
      listWebhookEndpoints: [
        ['GET', '/webhooks?event_type=user.exploded'],
        ['GET', '/webhooks?enabled=maybe'],
      ],
      createWebhookEndpoint: [
        ['POST', '/webhooks', { url: 'ftp://hooks.example/x', events: ['user.created'] }],
        ['POST', '/webhooks', { url: 'https://hooks.example/x', events: ['user.exploded'] }],
        ['POST', '/webhooks', { url: 'https://hooks.example/x', events: ['user.created'], secret: 'mine' }],
      ],
      getWebhookEndpoint: [['GET', `/webhooks/${long}`]],
      updateWebhookEndpoint: [
        ['PATCH', '/webhooks/ep_none', {}],
        ['PATCH', '/webhooks/ep_none', { events: [] }],
      ],
      removeWebhookEndpoint: [['DELETE', `/webhooks/${long}`]],
      listWebhookDeliveries: [
        ['GET', `/webhooks/${long}/deliveries`],
        ['GET', '/webhooks/ep_none/deliveries?status=lost'],
      ],
      listAuditEvents: [
        ['GET', '/audit-events?from=notadate'],
        ['GET', '/audit-events?limit=5000'],
        ['GET', '/audit-events?cursor=bm90LWEtY3Vyc29y'],
        ['GET', '/audit-events?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z'],
      ],
      // Users (src/admin-api/users-routes.ts): the users' service's refusals name their field too.
      listUsers: [
        ['GET', '/users?limit=0'],
        ['GET', '/users?cursor=zzz'],
        ['GET', '/users?disabled=maybe'],
      ],
      createUser: [
        ['POST', '/users', {}],
        ['POST', '/users', { email: 'nope', password: 'correct horse battery' }],
        ['POST', '/users', { email: 'eva@acme.example', password: 'short' }],
        ['POST', '/users', { email: 'eva@acme.example', role: 'admin' }],
      ],
      getUser: [['GET', `/users/${long}`]],
      updateUser: [
        ['PATCH', `/users/${ana.id}`, {}],
        ['PATCH', `/users/${ana.id}`, { phone: '5512345678' }],
        ['PATCH', `/users/${ana.id}`, { email: 'not an email' }],
      ],
      removeUser: [['DELETE', `/users/${long}`]],
      disableUser: [['POST', `/users/${long}/disable`]],
      enableUser: [['POST', `/users/${long}/enable`]],
      resetUserFactors: [['POST', `/users/${long}/factor-resets`]],
      listUserSessions: [['GET', `/users/${long}/sessions`]],
      endUserSessions: [['DELETE', `/users/${long}/sessions`]],
      endUserSession: [['DELETE', `/users/${ana.id}/sessions/${long}`]],
      sendUserPasswordReset: [['POST', `/users/${long}/password-resets`]],
      listUserSignInEvents: [['GET', `/users/${ana.id}/sign-in-events?limit=0`]],
    };

    // Every operation that takes input (a body, path or query parameters) is in the table.
    const document = (await w.call('GET', '/openapi.json')).json;
    const withInput = Object.values(
      document.paths as Record<
        string,
        Record<string, { operationId: string; requestBody?: unknown; parameters?: Array<{ in: string }> }>
      >,
    )
      .flatMap((operations) => Object.values(operations))
      .filter((op) => op.requestBody || (op.parameters ?? []).some((p) => p.in !== 'header'))
      .map((op) => op.operationId)
      .sort();
    t.deepEqual(Object.keys(cases).sort(), withInput);

    const before = await snapshot(w);
    for (const [operation, list] of Object.entries(cases)) {
      for (const [method, path, body, headers] of list) {
        const answer = await w.call(method, path, { token, body, headers });
        const label = `${operation}: ${method} ${path.slice(0, 60)} ${JSON.stringify(body ?? '').slice(0, 80)}`;
        t.true([400, 415].includes(answer.status), `${label} → ${answer.status} ${answer.text}`);
        t.is(answer.headers.get('content-type'), 'application/problem+json', label);
        t.regex(answer.json.type, /^urn:umbral:problem:(validation|malformed-json|unsupported-media-type)$/, label);
        if (answer.json.type === 'urn:umbral:problem:validation') {
          t.true(answer.json.errors.length > 0 && typeof answer.json.errors[0].pointer === 'string', label);
        }
        t.false(answer.text.includes('    at '), 'no stack trace');
      }
    }
    t.is(await snapshot(w), before, 'nothing changed');
  });
}
