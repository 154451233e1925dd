import test from 'ava';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { RoleRepository } from '../../src/organizations/roles.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { type AccountWorld, accountWorlds, openAccount, PASSWORD } from './account-fixture.ts';

const accountWorld = accountWorlds(test);
const DAY = 24 * 3600_000;

/**
 * Ana's organizations: Acme (active, admin and an operator's role), Beta (scheduled), Gamma
 * (suspended), Delta (ended), Epsilon (removed from it), and one whose name needs escaping and
 * where she holds no role. Someone else belongs to Omega.
 */
async function memberships(world: AccountWorld) {
  const db = world.server.umbral.storage.db;
  const orgs = new OrganizationRepository(db);
  const members = new MembershipRepository(db);
  await new RoleRepository(db).add({ name: 'supervisor', permissions: ['conversations:assign'] });
  const now = Date.now();
  const org = (name: string, slug: string, activatesAt = now - DAY, endsAt?: number) =>
    orgs.create({
      name,
      slug,
      activatesAt: new Date(activatesAt),
      ...(endsAt ? { endsAt: new Date(endsAt) } : {}),
    });
  const join = (organizationId: string, userId: string, roles: string[]) =>
    members.join({ organizationId, userId, roles, invitedBy: null });
  const ana = world.user.id;

  const acme = await org('Acme S.A.', 'acme');
  await join(acme.row.id, ana, ['admin', 'supervisor']);
  const beta = await org('Beta Ltda.', 'beta', Date.parse('2030-05-04T15:00:00Z'));
  await join(beta.row.id, ana, ['member']);
  const gamma = await org('Gamma SpA', 'gamma');
  await join(gamma.row.id, ana, ['member']);
  await orgs.suspend(gamma.row.id);
  const delta = await org('Delta Cía.', 'delta', now - 10 * DAY, now - DAY);
  await join(delta.row.id, ana, ['admin']);
  const epsilon = await org('Epsilon SRL', 'epsilon');
  await join(epsilon.row.id, ana, ['member']);
  await members.remove(epsilon.row.id, ana, new Date());
  const zeta = await org('<Zeta & Co>', 'zeta');
  await join(zeta.row.id, ana, ['member']);
  await members.setRoles(zeta.row.id, ana, [], new Date(now - 2 * DAY));
  const other = await world.server.users.create({ email: 'otro@example.com', emailVerified: true });
  const omega = await org('Omega Inc.', 'omega');
  await join(omega.row.id, other.id, ['admin']);
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] the account page lists no companies for a person who belongs to none`, async (t) => {
    const { server } = await accountWorld(kind);
    const page = await openAccount(
      server,
      new HttpBrowser({ 'accept-language': 'es' }),
      '/account',
      'ana@example.com',
      PASSWORD,
    );
    t.is(page.status, 200);
    t.notRegex(page.body, /Tus empresas/);
  });

  test.serial(
    `[${kind}] the account page lists the person's companies with their roles; ended and left ones are not listed`,
    async (t) => {
      const world = await accountWorld(kind);
      await memberships(world);
      const page = await openAccount(
        world.server,
        new HttpBrowser({ 'accept-language': 'es-MX' }),
        '/account',
        'ana@example.com',
        PASSWORD,
      );
      t.is(page.status, 200);
      t.regex(page.body, /<h2>Tus empresas<\/h2>/);
      t.regex(page.body, /<strong>Acme S\.A\.<\/strong><\/span><span class="hint">Roles: Administrador, supervisor</);
      t.regex(
        page.body,
        /<strong>Beta Ltda\.<\/strong> <span class="badge">Comienza el 4 de mayo de 2030\b[^<]*15:00 UTC</,
      );
      t.regex(page.body, /Beta Ltda\..*Rol: Miembro/s);
      t.regex(page.body, /<strong>Gamma SpA<\/strong> <span class="badge">Suspendida</);
      t.regex(page.body, /<strong>&lt;Zeta &amp; Co&gt;<\/strong><\/span><span class="hint">Sin roles asignados</);
      t.notRegex(page.body, /<Zeta/, 'the name is escaped');
      t.notRegex(page.body, /Delta/, 'an ended contract is not listed');
      t.notRegex(page.body, /Epsilon/, 'nor a company the person was removed from');
      t.notRegex(page.body, /Omega/, "nor anyone else's");
    },
  );

  test.serial(`[${kind}] the built-in roles and statuses are translated; other roles keep their name`, async (t) => {
    const world = await accountWorld(kind);
    await memberships(world);
    const english = await openAccount(
      world.server,
      new HttpBrowser({ 'accept-language': 'en' }),
      '/account',
      'ana@example.com',
      PASSWORD,
    );
    t.regex(english.body, /<h2>Your companies<\/h2>/);
    t.regex(english.body, /Roles: Administrator, supervisor/);
    t.regex(english.body, /Starts on May 4, 2030/);
    t.regex(english.body, /Role: Member/);
    t.regex(english.body, /Suspended/);
    t.regex(english.body, /No roles assigned/);

    const portuguese = await openAccount(
      world.server,
      new HttpBrowser({ 'accept-language': 'pt-BR' }),
      '/account',
      'ana@example.com',
      PASSWORD,
    );
    t.regex(portuguese.body, /<h2>Suas empresas<\/h2>/);
    t.regex(portuguese.body, /Funções: Administrador, supervisor/);
    t.regex(portuguese.body, /Começa em 4 de maio de 2030/);
    t.regex(portuguese.body, /Função: Membro/);
    t.regex(portuguese.body, /Suspensa/);
    t.regex(portuguese.body, /Sem funções atribuídas/);
  });
}
