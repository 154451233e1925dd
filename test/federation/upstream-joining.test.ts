import test, { type ExecutionContext } from 'ava';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import type { OrganizationFields } from '../../src/organizations/organization-input.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { codeOf } from '../interactions/signup-fixture.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { type FederationWorld, federationWorlds, PASSWORD, TENANT_ACME, TENANT_OTHER } from './federation-world.ts';
import { isAt, signInWith } from './flow-helpers.ts';

const federationWorld = federationWorlds(test);

/** Acme, active since yesterday, bound to the Acme Microsoft tenant and the acme.example Workspace. */
async function acme(world: FederationWorld, fields: OrganizationFields = {}) {
  const orgs = new OrganizationRepository(world.server.umbral.storage.db);
  return orgs.create({
    name: 'Acme S.A.',
    slug: 'acme',
    activatesAt: new Date(Date.now() - 24 * 3600_000),
    microsoftTenants: [TENANT_ACME],
    googleDomains: ['acme.example'],
    ...fields,
  });
}

/** The membership rows (current or removed) of an account, as stored. */
async function membershipRows(world: FederationWorld, userId: string) {
  return world.server.umbral.storage.db
    .selectFrom('organization_memberships')
    .selectAll()
    .where('user_id', '=', userId)
    .execute();
}

/**
 * From "Continuar con <provider>" to the portal: the sign-up page (name and terms) when the account
 * is new, and the emailed code when the upstream did not vouch for the email.
 */
async function signInToPortal(
  t: ExecutionContext,
  world: FederationWorld,
  provider: 'google' | 'microsoft',
  email: string,
): Promise<Page> {
  const browser = new HttpBrowser();
  let { page } = await signInWith(world, browser, provider, email);
  if (/Crea tu cuenta/.test(page.body)) {
    page = await browser.submit(page, '/federation/signup', { name: 'Persona', terms: 'accepted' }, world.redirectUri);
  }
  if (/Revisa tu correo/.test(page.body)) {
    const mails = await world.mailTo(email);
    page = await browser.submit(page, '/verify', { code: codeOf(mails.at(-1)!) }, world.redirectUri);
  }
  t.true(isAt(page, world.redirectUri), `the sign-in reaches the portal: ${page.url} ${page.body.slice(0, 500)}`);
  return page;
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a Microsoft sign-up from a bound tenant joins as member, even while the email is still being verified`,
    async (t) => {
      const world = await federationWorld(kind);
      const org = await acme(world);
      world.microsoft.addAccount({ email: 'carla@acme.example', tid: TENANT_ACME });
      await signInToPortal(t, world, 'microsoft', 'carla@acme.example');
      const user = (await world.server.users.findByEmail('carla@acme.example'))!;
      const rows = await membershipRows(world, user.id);
      t.is(rows.length, 1);
      t.like(rows[0], { organization_id: org.row.id, invited_by: `microsoft:${TENANT_ACME}`, removed_at: null });
      const memberships = await new MembershipRepository(world.server.umbral.storage.db).ofUser(user.id);
      t.deepEqual(
        memberships.map((m) => ({ slug: m.organization.slug, roles: m.roles })),
        [{ slug: 'acme', roles: ['member'] }],
      );
    },
  );

  test.serial(`[${kind}] a Microsoft account of another tenant with the same email domain does not join`, async (t) => {
    const world = await federationWorld(kind, { MICROSOFT_TRUST_EMAIL: 'true' });
    await acme(world);
    world.microsoft.addAccount({ email: 'intruso@acme.example', tid: TENANT_OTHER, edov: true });
    await signInToPortal(t, world, 'microsoft', 'intruso@acme.example');
    const user = (await world.server.users.findByEmail('intruso@acme.example'))!;
    t.deepEqual(await membershipRows(world, user.id), [], 'the email says acme.example; the tenant is not Acme’s');
  });

  test.serial(`[${kind}] a Google sign-up from a bound Workspace domain (hd) joins as member`, async (t) => {
    const world = await federationWorld(kind);
    const org = await acme(world, { microsoftTenants: [] });
    world.google.addAccount({ email: 'Gabi@Acme.example', hd: 'acme.example' });
    await signInToPortal(t, world, 'google', 'Gabi@Acme.example');
    const user = (await world.server.users.findByEmail('gabi@acme.example'))!;
    const rows = await membershipRows(world, user.id);
    t.is(rows.length, 1);
    t.like(rows[0], { organization_id: org.row.id, invited_by: 'google:acme.example' });
  });

  test.serial(
    `[${kind}] an existing Google account joins at its next sign-in once its Workspace domain is bound`,
    async (t) => {
      const world = await federationWorld(kind);
      world.google.addAccount({ email: 'hugo@acme.example', hd: 'acme.example' });
      await signInToPortal(t, world, 'google', 'hugo@acme.example');
      const user = (await world.server.users.findByEmail('hugo@acme.example'))!;
      t.deepEqual(await membershipRows(world, user.id), [], 'no organization is bound yet');

      const org = await acme(world);
      await signInToPortal(t, world, 'google', 'hugo@acme.example');
      const rows = await membershipRows(world, user.id);
      t.is(rows.length, 1);
      t.like(rows[0], { organization_id: org.row.id, invited_by: 'google:acme.example' });
    },
  );

  test.serial(
    `[${kind}] a Google account with an @acme.example email but no hd, or another hd, does not join`,
    async (t) => {
      const world = await federationWorld(kind);
      await acme(world);
      // A consumer Google account can carry any address, and so can another Workspace's.
      world.google.addAccount({ email: 'consumer@acme.example' });
      world.google.addAccount({ email: 'alias@acme.example', hd: 'otra.example' });
      for (const email of ['consumer@acme.example', 'alias@acme.example']) {
        await signInToPortal(t, world, 'google', email);
        const user = (await world.server.users.findByEmail(email))!;
        t.deepEqual(await membershipRows(world, user.id), [], email);
      }
    },
  );

  test.serial(`[${kind}] a full organization takes no one by tenant, and the sign-in still succeeds`, async (t) => {
    const world = await federationWorld(kind);
    const org = await acme(world, { seatLimit: 1 });
    const first = await world.server.users.create({
      email: 'ana@acme.example',
      password: PASSWORD,
      emailVerified: true,
    });
    await new MembershipRepository(world.server.umbral.storage.db).join({
      organizationId: org.row.id,
      userId: first.id,
      roles: ['admin'],
      invitedBy: null,
    });
    world.google.addAccount({ email: 'beto@acme.example', hd: 'acme.example' });
    await signInToPortal(t, world, 'google', 'beto@acme.example');
    const user = (await world.server.users.findByEmail('beto@acme.example'))!;
    t.deepEqual(await membershipRows(world, user.id), []);
    t.is((await new MembershipRepository(world.server.umbral.storage.db).members(org.row.id)).length, 1);
  });

  test.serial(
    `[${kind}] a returning member keeps their roles and how they joined; signing in again adds nothing`,
    async (t) => {
      const world = await federationWorld(kind, { MICROSOFT_TRUST_EMAIL: 'true' });
      const org = await acme(world);
      world.microsoft.addAccount({ email: 'dario@acme.example', tid: TENANT_ACME, edov: true });
      await signInToPortal(t, world, 'microsoft', 'dario@acme.example');
      const user = (await world.server.users.findByEmail('dario@acme.example'))!;
      const [joined] = await membershipRows(world, user.id);
      t.like(joined, { roles: ['member'], invited_by: `microsoft:${TENANT_ACME}` });

      // The organization's admins made him an admin (and no longer a plain member).
      const memberships = new MembershipRepository(world.server.umbral.storage.db);
      await memberships.setRoles(org.row.id, user.id, ['admin'], new Date());
      await signInToPortal(t, world, 'microsoft', 'dario@acme.example');
      const rows = await membershipRows(world, user.id);
      t.is(rows.length, 1);
      t.deepEqual(rows[0]!.roles, ['admin'], 'member is not added back');
      t.is(rows[0]!.invited_by, `microsoft:${TENANT_ACME}`);
      t.deepEqual(rows[0]!.joined_at, joined!.joined_at);
    },
  );
}
