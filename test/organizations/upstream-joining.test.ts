import { Writable } from 'node:stream';
import test from 'ava';
import { MICROSOFT_CONSUMERS_TENANT_ID } from '../../src/federation/federation-settings.ts';
import { googleIdentity, microsoftIdentity } from '../../src/federation/upstream-identity.ts';
import type { UpstreamSignIn } from '../../src/interactions/interaction.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationInputError } from '../../src/organizations/organization-errors.ts';
import { type OrganizationFields, parseMicrosoftTenant } from '../../src/organizations/organization-input.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { UpstreamJoining } from '../../src/organizations/upstream-joining.ts';
import { UserRepository } from '../../src/users/users.ts';
import { storagesPerFile } from '../support/storages-per-file.ts';
import { JOURNEY_STORES, type StoreKind } from '../support/stores.ts';

const DAY = 24 * 3600_000;
// Real time: invitations' expiry and seats are compared with the database's now().
const NOW = Date.now();
const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER_TENANT = '22222222-2222-4222-8222-222222222222';

const storageFor = storagesPerFile(test);

/** One migrated store per kind for this file, emptied before each test; the joining at NOW, its logs kept. */
async function model(kind: StoreKind) {
  const storage = await storageFor(kind);
  const db = storage.db;
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const orgs = new OrganizationRepository(db);
  const users = new UserRepository(db);
  const memberships = new MembershipRepository(db);
  const joining = new UpstreamJoining({ db, logger: createLogger('info', destination), now: () => NOW });
  return {
    db,
    orgs,
    users,
    memberships,
    invitations: new InvitationRepository(db, () => NOW),
    joining,
    logs,
    acme: (fields: OrganizationFields = {}) =>
      orgs.create({
        name: 'Acme S.A.',
        slug: 'acme',
        activatesAt: new Date(NOW - DAY),
        microsoftTenants: [TENANT],
        googleDomains: ['acme.example'],
        ...fields,
      }),
    person: (email: string) => users.create({ email, emailVerified: true }),
  };
}

const fromMicrosoft = (accountId: string, tenant: string | undefined = TENANT): UpstreamSignIn => ({
  accountId,
  provider: 'microsoft',
  tenant,
  uid: 'interaction-uid',
});
const fromGoogle = (accountId: string, tenant: string | undefined): UpstreamSignIn => ({
  accountId,
  provider: 'google',
  tenant,
  uid: 'interaction-uid',
});

test('the upstream identity carries the tenant of the ID token: tid, or hd; none for personal or consumer accounts', (t) => {
  const microsoft = {
    clientId: 'c',
    clientSecret: 's',
    tenant: 'common',
    authority: 'https://login.example',
    allowedTenants: [],
    trustEmail: false,
  };
  const ms = (tid: string) =>
    microsoftIdentity(
      { tid, oid: OTHER_TENANT, iss: `https://login.example/${tid}/v2.0`, email: 'a@acme.example' },
      microsoft,
    );
  t.is(ms(TENANT.toUpperCase()).tenant, TENANT, 'lower-cased as bindings are');
  t.is(ms(MICROSOFT_CONSUMERS_TENANT_ID).tenant, undefined, 'the personal-accounts tenant is nobody’s organization');

  const google = { clientId: 'c', clientSecret: 's', issuer: 'https://accounts.example', allowedDomains: [] };
  const g = (claims: Record<string, unknown>) =>
    googleIdentity(
      { sub: '1', iss: 'https://accounts.example', email: 'a@acme.example', email_verified: true, ...claims },
      google,
    );
  t.is(g({ hd: 'Acme.Example' }).tenant, 'acme.example');
  t.is(g({}).tenant, undefined, 'a consumer account has no hd, whatever its email says');
  t.is(g({ hd: 'not a domain' }).tenant, undefined);
  t.is(g({ hd: 42 }).tenant, undefined);
});

test('the personal-accounts tenant cannot be bound to an organization', (t) => {
  const error = t.throws(() => parseMicrosoftTenant(MICROSOFT_CONSUMERS_TENANT_ID), {
    instanceOf: OrganizationInputError,
  });
  t.regex(error.message, /personal accounts/);
  t.is(parseMicrosoftTenant(` ${TENANT.toUpperCase()} `), TENANT);
});

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] joins on the tenant as member, invited by the tenant; nothing for an unbound one`,
    async (t) => {
      const m = await model(kind);
      const org = await m.acme();
      const carla = await m.person('carla@acme.example');
      const gabi = await m.person('gabi@acme.example');
      const other = await m.person('otro@acme.example');

      t.is(await m.joining.join(fromMicrosoft(carla.id)), 'joined');
      t.is(await m.joining.join(fromGoogle(gabi.id, 'ACME.example')), 'joined');
      t.is(await m.joining.join(fromMicrosoft(other.id, OTHER_TENANT)), 'not_bound');
      t.is(await m.joining.join(fromGoogle(other.id, undefined)), 'no_tenant');
      // A Google Workspace domain does not bind Microsoft sign-ins, nor a tenant Google ones.
      t.is(await m.joining.join(fromMicrosoft(other.id, 'acme.example')), 'not_bound');
      t.is(await m.joining.join(fromGoogle(other.id, TENANT)), 'not_bound');

      const members = await m.memberships.members(org.row.id);
      t.deepEqual(
        members.map((x) => ({ email: x.email, roles: x.roles, invitedBy: x.invitedBy })),
        [
          { email: 'carla@acme.example', roles: ['member'], invitedBy: `microsoft:${TENANT}` },
          { email: 'gabi@acme.example', roles: ['member'], invitedBy: 'google:acme.example' },
        ],
      );
      t.deepEqual(await m.memberships.ofUser(other.id), []);
      t.like(
        m.logs.find((l) => l['event'] === 'organization.joined'),
        { level: 30, organizationId: org.row.id, accountId: carla.id, provider: 'microsoft', tenant: TENANT },
      );
      t.false(JSON.stringify(m.logs).includes('@acme.example'), 'no email in the logs');
    },
  );

  test.serial(`[${kind}] scheduled and suspended organizations take members; an ended one does not`, async (t) => {
    const m = await model(kind);
    const scheduled = await m.acme({ activatesAt: new Date(NOW + DAY) });
    const suspended = await m.orgs.create({
      name: 'Beta',
      slug: 'beta',
      activatesAt: new Date(NOW - DAY),
      googleDomains: ['beta.example'],
    });
    await m.orgs.suspend(suspended.row.id);
    const ended = await m.orgs.create({
      name: 'Gamma',
      slug: 'gamma',
      activatesAt: new Date(NOW - 10 * DAY),
      endsAt: new Date(NOW - DAY),
      googleDomains: ['gamma.example'],
    });
    const person = await m.person('p@example.com');
    t.is(await m.joining.join(fromMicrosoft(person.id)), 'joined');
    t.is(await m.joining.join(fromGoogle(person.id, 'beta.example')), 'joined');
    t.is(await m.joining.join(fromGoogle(person.id, 'gamma.example')), 'ended');
    t.deepEqual(
      (await m.memberships.ofUser(person.id)).map((x) => x.organization.id).sort(),
      [scheduled.row.id, suspended.row.id].sort(),
    );
    t.deepEqual(await m.memberships.members(ended.row.id), []);
    t.like(
      m.logs.find((l) => l['reason'] === 'ended'),
      { event: 'organization.join_skipped', level: 30 },
    );
  });

  test.serial(`[${kind}] an organization that does not allow the provider takes no one through it`, async (t) => {
    const m = await model(kind);
    const org = await m.acme({ signInMethods: ['password', 'google'] });
    const person = await m.person('p@acme.example');
    t.is(await m.joining.join(fromMicrosoft(person.id)), 'method_not_allowed');
    t.is(await m.joining.join(fromGoogle(person.id, 'acme.example')), 'joined');
    t.is((await m.memberships.members(org.row.id)).length, 1);
  });

  test.serial(`[${kind}] a current member keeps their roles; a removed one is not brought back`, async (t) => {
    const m = await model(kind);
    const org = await m.acme();
    const admin = await m.person('admin@acme.example');
    const leaver = await m.person('leaver@acme.example');
    await m.memberships.join({ organizationId: org.row.id, userId: admin.id, roles: ['admin'], invitedBy: null });
    await m.memberships.join({ organizationId: org.row.id, userId: leaver.id, roles: ['member'], invitedBy: null });
    await m.memberships.remove(org.row.id, leaver.id, new Date(NOW));

    t.is(await m.joining.join(fromMicrosoft(admin.id)), 'already_member');
    t.is(await m.joining.join(fromMicrosoft(leaver.id)), 'removed');
    const members = await m.memberships.members(org.row.id);
    t.deepEqual(
      members.map((x) => ({ email: x.email, roles: x.roles, invitedBy: x.invitedBy })),
      [{ email: 'admin@acme.example', roles: ['admin'], invitedBy: null }],
    );
    t.like(
      m.logs.find((l) => l['reason'] === 'removed'),
      { accountId: leaver.id },
    );
  });

  test.serial(
    `[${kind}] seats: a full organization refuses with a warning; a person's own pending invitation holds their seat`,
    async (t) => {
      const m = await model(kind);
      const org = await m.acme({ seatLimit: 2 });
      const first = await m.person('first@acme.example');
      const invited = await m.person('Invited@acme.example');
      const late = await m.person('late@acme.example');
      t.is(await m.joining.join(fromMicrosoft(first.id)), 'joined');
      // The second seat is held by an invitation to someone who then signs in from the tenant.
      await m.invitations.invite({
        organizationId: org.row.id,
        email: 'invited@acme.example',
        roles: ['member'],
        invitedBy: null,
        withToken: true,
      });
      t.is(await m.memberships.seatsTaken(org.row.id), 2);
      t.is(await m.joining.join(fromMicrosoft(late.id)), 'seats_full');
      t.is(await m.joining.join(fromMicrosoft(invited.id)), 'joined');
      t.is(await m.memberships.seatsTaken(org.row.id), 2);
      t.deepEqual((await m.memberships.members(org.row.id)).map((x) => x.email.toLowerCase()).sort(), [
        'first@acme.example',
        'invited@acme.example',
      ]);
      const warning = m.logs.find((l) => l['event'] === 'organization.join_refused');
      t.like(warning, {
        level: 40,
        reason: 'seats_full',
        accountId: late.id,
        organizationId: org.row.id,
        seatLimit: 2,
      });
    },
  );

  test.serial(`[${kind}] two people signing in at once for the last seat: one joins`, async (t) => {
    const m = await model(kind);
    const org = await m.acme({ seatLimit: 1 });
    const people = await Promise.all(['a@acme.example', 'b@acme.example', 'c@acme.example'].map((e) => m.person(e)));
    const results = await Promise.all(people.map((p) => m.joining.join(fromMicrosoft(p.id))));
    t.deepEqual(results.filter((r) => r === 'joined').length, 1, results.join(' '));
    t.deepEqual(results.filter((r) => r === 'seats_full').length, 2);
    t.is((await m.memberships.members(org.row.id)).length, 1);
  });
}
