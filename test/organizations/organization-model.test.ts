import test from 'ava';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationInputError } from '../../src/organizations/organization-errors.ts';
import { parseCountry, parseInstant, slugFromName } from '../../src/organizations/organization-input.ts';
import { organizationStatus } from '../../src/organizations/organization-status.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { RoleRepository } from '../../src/organizations/roles.ts';
import { UserRepository } from '../../src/users/users.ts';
import { storagesPerFile } from '../support/storages-per-file.ts';
import { STORES, type StoreKind } from '../support/stores.ts';

const HOUR = 3600_000;

const storageFor = storagesPerFile(test);

/** One migrated store per kind for this file, emptied before each test. */
async function model(kind: StoreKind) {
  const storage = await storageFor(kind);
  const db = storage.db;
  return {
    db,
    orgs: new OrganizationRepository(db),
    roles: new RoleRepository(db),
    memberships: new MembershipRepository(db),
    invitations: new InvitationRepository(db),
    users: new UserRepository(db),
  };
}

test('status follows the dates and the hold', (t) => {
  const now = new Date('2027-03-01T12:00:00Z');
  const base = { activates_at: new Date('2027-03-01T13:00:00Z'), ends_at: null, suspended_at: null };
  t.is(organizationStatus(base, now), 'scheduled');
  t.is(organizationStatus({ ...base, activates_at: new Date('2027-03-01T11:00:00Z') }, now), 'active');
  t.is(
    organizationStatus({ ...base, activates_at: new Date('2027-01-01'), suspended_at: new Date() }, now),
    'suspended',
  );
  t.is(organizationStatus({ ...base, activates_at: new Date('2027-01-01'), ends_at: now }, now), 'ended');
});

test('input parsing refuses what is not a country, a date or a slug source', (t) => {
  t.is(parseCountry(' cl '), 'CL');
  t.throws(() => parseCountry('XX'), { instanceOf: OrganizationInputError, message: /ISO 3166-1/ });
  t.throws(() => parseCountry('EU'), { instanceOf: OrganizationInputError });
  t.is(parseInstant('2027-03-01T09:00:00-03:00', 'activates-at').toISOString(), '2027-03-01T12:00:00.000Z');
  t.is(parseInstant('2027-03-01', 'activates-at').toISOString(), '2027-03-01T00:00:00.000Z');
  t.throws(() => parseInstant('2027-03-01T09:00', 'activates-at'), { message: /ISO 8601/ });
  t.throws(() => parseInstant('2027-02-30', 'ends-at'), { message: /ISO 8601/ });
  t.is(slugFromName('Acme S.A.'), 'acme-s-a');
  t.is(slugFromName('Compañía Ñandú Ltda.'), 'compania-nandu-ltda');
  t.throws(() => slugFromName('…'), { message: /--slug/ });
});

for (const kind of STORES) {
  test.serial(
    `[${kind}] organizations: duplicate slugs, contract dates and bound tenants are refused unchanged`,
    async (t) => {
      const { orgs } = await model(kind);
      const acme = await orgs.create({
        name: 'Acme S.A.',
        slug: 'acme',
        activatesAt: new Date(),
        microsoftTenants: ['0b6a5b6e-1f4c-4a57-9f0e-2b6f3c1d9e7a'],
        googleDomains: ['acme.example'],
      });
      t.deepEqual(acme.signInMethods, ['password', 'google', 'microsoft', 'passkey']);
      await t.throwsAsync(orgs.create({ name: 'Other', slug: 'acme', activatesAt: new Date() }), {
        message: /already exists/,
      });
      await t.throwsAsync(
        orgs.create({
          name: 'Late',
          slug: 'late',
          activatesAt: new Date('2027-02-01'),
          endsAt: new Date('2027-01-01'),
        }),
        { message: /must end after it starts/ },
      );
      await t.throwsAsync(
        orgs.create({ name: 'Twin', slug: 'twin', activatesAt: new Date(), googleDomains: ['ACME.example'] }),
        { message: /already bound/ },
      );
      t.deepEqual(
        (await orgs.list()).map((o) => o.row.slug),
        ['acme'],
        'the refused ones left nothing behind',
      );
      await t.throwsAsync(orgs.update(acme.row.id, { endsAt: new Date('2000-01-01') }), { message: /must end after/ });
      t.is((await orgs.find('acme'))?.row.ends_at, null);
      t.is((await orgs.boundTo('google', 'acme.example'))?.row.id, acme.row.id);
      t.is((await orgs.boundTo('microsoft', '0B6A5B6E-1F4C-4A57-9F0E-2B6F3C1D9E7A'))?.row.id, acme.row.id);
    },
  );

  test.serial(
    `[${kind}] invitations: a seat limit, one acceptance per link, a renewal voids the older link`,
    async (t) => {
      const { orgs, invitations, memberships, users } = await model(kind);
      const org = await orgs.create({ name: 'Two Seats', slug: 'two', activatesAt: new Date(), seatLimit: 2 });
      const first = await invitations.invite({
        organizationId: org.row.id,
        email: 'Ana@Acme.example',
        roles: ['admin'],
        invitedBy: null,
        withToken: true,
      });
      t.true(first.invitation.designates_admin);
      const renewed = await invitations.invite({
        organizationId: org.row.id,
        email: 'ana@acme.example',
        roles: ['admin'],
        invitedBy: null,
        withToken: true,
      });
      t.is(renewed.invitation.id, first.invitation.id, 'the same invitation, renewed');
      t.is(renewed.invitation.times_sent, 2);
      t.is(await invitations.findByToken(first.token!), undefined, 'the older link no longer works');
      await invitations.invite({
        organizationId: org.row.id,
        email: 'bo@acme.example',
        roles: ['member'],
        invitedBy: null,
        withToken: true,
      });
      await t.throwsAsync(
        invitations.invite({
          organizationId: org.row.id,
          email: 'cy@acme.example',
          roles: ['member'],
          invitedBy: null,
          withToken: true,
        }),
        { message: /no free seat: its limit is 2 and 2 are taken/ },
      );
      const ana = await users.create({ email: 'ana@acme.example', emailVerified: true });
      const accepted = await invitations.accept(renewed.token!, ana.id);
      t.is(accepted.state, 'accepted');
      t.deepEqual((await memberships.membership(org.row.id, ana.id))?.roles, ['admin']);
      await t.throwsAsync(invitations.accept(renewed.token!, ana.id), { message: /accepted/ });
      t.is((await invitations.findByToken(renewed.token!))?.state, 'accepted', 'a used link is told it was used');
      t.is(await memberships.seatsTaken(org.row.id), 2);
    },
  );

  test.serial(`[${kind}] the last admin of an active organization stays; roles in use stay`, async (t) => {
    const { orgs, memberships, users, roles } = await model(kind);
    const org = await orgs.create({ name: 'Solo', slug: 'solo', activatesAt: new Date(Date.now() - HOUR) });
    const ana = await users.create({ email: 'ana@solo.example' });
    const bo = await users.create({ email: 'bo@solo.example' });
    await roles.add({ name: 'supervisor', permissions: ['conversations:assign', 'conversations:assign'] });
    await memberships.join({ organizationId: org.row.id, userId: ana.id, roles: ['admin'], invitedBy: 'operator' });
    await memberships.join({
      organizationId: org.row.id,
      userId: bo.id,
      roles: ['member', 'supervisor'],
      invitedBy: 'operator',
    });
    await t.throwsAsync(memberships.remove(org.row.id, ana.id, new Date()), { message: /last admin/ });
    await t.throwsAsync(memberships.setRoles(org.row.id, ana.id, ['member'], new Date()), { message: /last admin/ });
    await t.throwsAsync(roles.remove('supervisor'), { message: /in use/ });
    await t.throwsAsync(roles.remove('admin'), { message: /built in/ });
    t.deepEqual(await roles.permissionsOf(['member', 'supervisor']), ['conversations:assign']);
    await memberships.join({ organizationId: org.row.id, userId: bo.id, roles: ['admin'], invitedBy: 'operator' });
    t.deepEqual(
      (await memberships.membership(org.row.id, bo.id))?.roles,
      ['admin', 'member', 'supervisor'],
      'roles gained, not replaced',
    );
    await memberships.remove(org.row.id, ana.id, new Date());
    t.deepEqual(
      (await memberships.members(org.row.id)).map((m) => m.email),
      ['bo@solo.example'],
    );
    await memberships.join({ organizationId: org.row.id, userId: ana.id, roles: ['member'], invitedBy: 'operator' });
    t.deepEqual((await memberships.membership(org.row.id, ana.id))?.roles, ['member'], 'a removed member starts over');
    t.deepEqual(
      (await memberships.ofUser(ana.id)).map((m) => m.organization.slug),
      ['solo'],
    );
  });
}
