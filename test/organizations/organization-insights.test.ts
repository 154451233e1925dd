import test from 'ava';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { createLogger } from '../../src/logging/logger.ts';
import { csvCell, membersCsv, membersForExport } from '../../src/organizations/members-csv.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { organizationMetrics } from '../../src/organizations/organization-metrics.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { methodOfAmr, SignInEvents } from '../../src/organizations/sign-in-events.ts';
import { signInsChartSvg } from '../../src/organizations/sign-ins-chart.ts';
import type { Storage } from '../../src/storage/database.ts';
import { storagesPerFile } from '../support/storages-per-file.ts';
import { STORES } from '../support/stores.ts';

const storage = storagesPerFile(test);
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-30T15:00:00Z');
const logger = createLogger('silent');

async function addUser(db: Storage['db'], id: string): Promise<void> {
  await db
    .insertInto('users')
    .values({ id, email: `${id}@example.com`, name: id })
    .execute();
}

test('the method of a sign-in is its first factor, read from amr', (t) => {
  t.is(methodOfAmr(['pwd']), 'password');
  t.is(methodOfAmr(['pwd', 'otp', 'mfa']), 'password');
  t.is(methodOfAmr(['hwk', 'mfa']), 'passkey');
  t.is(methodOfAmr(['fed']), undefined, 'the provider is looked up at the flush');
  t.is(methodOfAmr(['fed', 'pwd']), undefined);
  t.is(methodOfAmr([]), null);
});

for (const kind of STORES) {
  test.serial(`[${kind}] sign-ins are buffered, written at the flush, read per member and purged`, async (t) => {
    const { db } = await storage(kind);
    let now = NOW;
    const events = new SignInEvents({ db, logger, now: () => now, flushIntervalMs: 60_000 });
    t.teardown(() => events.close());
    await addUser(db, 'ana');
    await addUser(db, 'beto');
    await db
      .insertInto('federated_identities')
      .values([
        { id: 'f1', user_id: 'beto', provider: 'google', realm: 'g', subject: '1', last_login_at: new Date(NOW - DAY) },
        { id: 'f2', user_id: 'beto', provider: 'microsoft', realm: 'm', subject: '2', last_login_at: new Date(NOW) },
      ])
      .execute();

    events.record({
      userId: 'ana',
      organizationId: 'acme',
      clientId: 'crm',
      method: 'password',
      at: new Date(NOW - 3 * DAY),
    });
    events.signedIn({ accountId: 'ana', amr: ['hwk', 'mfa'], organizationId: 'acme', clientId: 'crm' });
    events.signedIn({ accountId: 'beto', amr: ['fed'], organizationId: 'acme', clientId: 'crm' });
    events.signedIn({ accountId: 'ana', amr: ['pwd'], organizationId: 'other', clientId: 'crm' });
    events.signedIn({ accountId: 'ana', amr: ['pwd'], organizationId: null, clientId: 'shop' });
    t.is((await db.selectFrom('sign_in_events').select('id').execute()).length, 0, 'nothing written before the flush');
    await events.flush();
    t.is((await db.selectFrom('sign_in_events').select('id').execute()).length, 5);

    const last = await events.lastSignIns('acme', ['ana', 'beto', 'nadie']);
    t.deepEqual(last.get('ana'), { at: new Date(NOW), methods: ['password', 'passkey'] });
    t.deepEqual(last.get('beto'), { at: new Date(NOW), methods: ['microsoft'] }, 'the provider used last');
    t.false(last.has('nadie'));
    t.deepEqual((await events.lastSignIns('other', ['ana'])).get('ana')?.methods, ['password']);
    t.is((await events.lastSignIns('acme', [])).size, 0);

    const days = async () =>
      (
        await db
          .selectFrom('organization_sign_in_days')
          .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'method', 'sign_ins'])
          .where('organization_id', '=', 'acme')
          .orderBy('day')
          .orderBy('method')
          .execute()
      ).map((d) => `${d.day} ${d.method} ${d.sign_ins}`);
    const people = async () =>
      (await db.selectFrom('organization_member_sign_ins').select(['organization_id', 'user_id']).execute())
        .map((p) => `${p.organization_id} ${p.user_id}`)
        .sort();
    t.deepEqual(await days(), ['2026-11-27 password 1', '2026-11-30 microsoft 1', '2026-11-30 passkey 1']);
    t.deepEqual(await people(), ['acme ana', 'acme beto', 'other ana']);

    now = NOW + 398 * DAY;
    t.is(await events.purgeExpired(400), 1, 'the one recorded 3 days earlier is past 400 days');
    t.deepEqual(await days(), ['2026-11-30 microsoft 1', '2026-11-30 passkey 1'], 'its day went with it');
    t.deepEqual(await people(), ['acme ana', 'acme beto', 'other ana'], 'everyone was seen since');
    t.is(await events.purgeOlderThan(new Date(NOW + DAY)), 4);
    t.deepEqual(await days(), []);
    t.deepEqual(await people(), []);
  });

  test.serial(
    `[${kind}] a write that fails keeps the events for the next flush; after close nothing is kept`,
    async (t) => {
      const { db } = await storage(kind);
      const events = new SignInEvents({ db, logger, now: () => NOW, flushIntervalMs: 60_000 });
      t.teardown(() => events.close());
      await db.schema.alterTable('sign_in_events').renameTo('sign_in_events_away').execute();
      try {
        events.record({ userId: 'ana', clientId: 'crm', method: 'password' });
        await events.flush();
      } finally {
        await db.schema.alterTable('sign_in_events_away').renameTo('sign_in_events').execute();
      }
      await events.flush();
      const rows = await db.selectFrom('sign_in_events').selectAll().execute();
      t.is(rows.length, 1);
      t.like(rows[0], { user_id: 'ana', organization_id: null, client_id: 'crm', method: 'password' });
      await events.close();
      t.notThrows(() => events.record({ userId: 'ana', clientId: 'crm', method: 'password' }));
    },
  );
}

for (const kind of STORES) {
  test.serial(`[${kind}] the metrics agree with the sign-ins, members, factors and invitations recorded`, async (t) => {
    const { db } = await storage(kind);
    const now = new Date();
    const events = new SignInEvents({ db, logger, flushIntervalMs: 60_000 });
    t.teardown(() => events.close());
    const orgs = new OrganizationRepository(db);
    const acme = await orgs.create({
      name: 'Acme S.A.',
      slug: 'acme',
      activatesAt: new Date(now.getTime() - DAY),
      seatLimit: 10,
    });
    const other = await orgs.create({ name: 'Otra', slug: 'otra', activatesAt: new Date(now.getTime() - DAY) });
    const memberships = new MembershipRepository(db);
    for (const id of ['ana', 'beto', 'caro', 'dani']) {
      await addUser(db, id);
      await memberships.join({ organizationId: acme.row.id, userId: id, roles: ['member'], invitedBy: 'operator' });
    }
    await db.updateTable('organization_memberships').set({ removed_at: now }).where('user_id', '=', 'dani').execute();
    await db
      .insertInto('mfa_factors')
      .values([
        { id: 'f-ana', user_id: 'ana', kind: 'totp', confirmed_at: now },
        { id: 'f-beto', user_id: 'beto', kind: 'totp', confirmed_at: null },
      ])
      .execute();
    const invitation = (email: string, expiresAt: Date, status = 'pending') => ({
      id: email,
      organization_id: acme.row.id,
      email,
      roles: '["member"]',
      expires_at: expiresAt,
      status,
    });
    await db
      .insertInto('organization_invitations')
      .values([
        invitation('p@x.example', new Date(now.getTime() + DAY)),
        invitation('e@x.example', new Date(now.getTime() - DAY)),
        invitation('r@x.example', new Date(now.getTime() + DAY), 'revoked'),
      ])
      .execute();
    const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY);
    const org = acme.row.id;
    events.record({ userId: 'ana', organizationId: org, clientId: 'crm', method: 'password', at: at(0) });
    events.record({ userId: 'ana', organizationId: org, clientId: 'crm', method: 'passkey', at: at(5) });
    events.record({ userId: 'beto', organizationId: org, clientId: 'wiki', method: 'google', at: at(10) });
    events.record({ userId: 'dani', organizationId: org, clientId: 'crm', method: 'password', at: at(0) });
    events.record({ userId: 'ana', organizationId: org, clientId: 'crm', method: 'password', at: at(31) });
    events.record({ userId: 'caro', organizationId: other.row.id, clientId: 'crm', method: 'microsoft', at: at(0) });
    await events.flush();

    const metrics = await organizationMetrics(db, org, now);
    t.is(metrics.members, 3);
    t.deepEqual(metrics.activeMembers, { last7Days: 1, last30Days: 2 }, 'a removed member is not active');
    t.is(metrics.signInsPerDay.length, 30);
    t.is(metrics.signInsPerDay.at(-1)!.day, now.toISOString().slice(0, 10));
    t.deepEqual(
      metrics.signInsPerDay.map((d) => d.count),
      Array.from({ length: 30 }, (_, i) => ({ 29: 2, 24: 1, 19: 1 })[i] ?? 0),
    );
    t.deepEqual(metrics.methods, { password: 2, passkey: 1, google: 1, microsoft: 0 });
    t.deepEqual(metrics.secondFactor, { members: 3, withSecondFactor: 1, share: 1 / 3 });
    t.deepEqual(metrics.invitations, { pending: 1, expired: 1 });
    t.deepEqual(metrics.seats, { used: 4, limit: 10 });

    const empty = await organizationMetrics(db, other.row.id, now);
    t.deepEqual(empty.activeMembers, { last7Days: 0, last30Days: 0 }, "caro is not a member of Otra's");
    t.deepEqual(empty.secondFactor, { members: 0, withSecondFactor: 0, share: 0 });

    const rows = await membersForExport(db, events, org, { active: 'Activo', excluded: 'Excluido' });
    t.deepEqual(
      rows.map((r) => [r.email, r.status, r.lastSignIn?.getTime() ?? null]),
      [
        ['ana@example.com', 'Activo', at(0).getTime()],
        ['beto@example.com', 'Activo', at(10).getTime()],
        ['caro@example.com', 'Activo', null],
        ['dani@example.com', 'Excluido', at(0).getTime()],
      ],
    );
  });
}

test('the members CSV follows RFC 4180 and defuses formulas', (t) => {
  const last = new Date('2026-11-30T12:34:56Z');
  const csv = membersCsv(
    [
      {
        email: 'ana@acme.example',
        name: 'Pérez, Ana "la jefa"',
        roles: ['admin', 'member'],
        status: 'Activo',
        lastSignIn: last,
      },
      {
        email: 'x@acme.example',
        name: '=HYPERLINK("http://evil")',
        roles: ['member'],
        status: 'Activo',
        lastSignIn: null,
      },
      { email: 'y@acme.example', name: '+1 línea\nsegunda', roles: [], status: '-', lastSignIn: null },
      { email: '@z@acme.example', name: null, roles: ['member'], status: 'Excluido', lastSignIn: null },
    ],
    { email: 'Correo', name: 'Nombre', roles: 'Roles', status: 'Estado', lastSignIn: 'Último inicio de sesión' },
  );
  t.true(csv.endsWith('\r\n'));
  t.is(csv.split('\r\n')[0], 'Correo,Nombre,Roles,Estado,Último inicio de sesión');
  const parsed = parse(csv, { relax_column_count: false }) as string[][];
  t.deepEqual(parsed, [
    ['Correo', 'Nombre', 'Roles', 'Estado', 'Último inicio de sesión'],
    ['ana@acme.example', 'Pérez, Ana "la jefa"', 'admin; member', 'Activo', '2026-11-30T12:34:56.000Z'],
    ['x@acme.example', `'=HYPERLINK("http://evil")`, 'member', 'Activo', ''],
    ['y@acme.example', "'+1 línea\nsegunda", '', "'-", ''],
    ["'@z@acme.example", '', 'member', 'Excluido', ''],
  ]);
  t.is(csvCell('-5'), "'-5");
  t.is(csvCell('\tx'), "'\tx");
  t.is(csvCell('a,b'), '"a,b"');
});

test('the chart is an accessible SVG image with a bar per day, its text escaped', (t) => {
  const perDay = Array.from({ length: 30 }, (_, i) => ({
    day: `2026-11-${String(i + 1).padStart(2, '0')}`,
    count: i % 7,
  }));
  const svg = signInsChartSvg(perDay, {
    title: 'Inicios de sesión <por día>',
    description: 'Total: 87 & máximo 6',
    day: (day) => day.slice(8),
    bar: (count, day) => `${day}: ${count} inicios`,
  });
  t.regex(svg, /^<svg [^>]*role="img"[^>]*aria-labelledby="sign-ins-chart-title sign-ins-chart-desc"/);
  t.regex(svg, /<title id="sign-ins-chart-title">Inicios de sesión &#60;por día&#62;<\/title>/);
  t.regex(svg, /<desc id="sign-ins-chart-desc">Total: 87 &#38; máximo 6<\/desc>/);
  t.is(svg.match(/<rect /g)?.length, 30);
  t.true(svg.includes('<title>07: 6 inicios</title>'));
  t.false(svg.includes('<script'));
  const heights = [...svg.matchAll(/<rect [^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
  t.is(heights[0], 0, 'a day without sign-ins has no bar');
  t.is(Math.max(...heights), heights[6]!, 'the highest day the tallest bar');
  const none = signInsChartSvg([{ day: '2026-11-30', count: 0 }], { title: 't', description: 'd', id: 'c2' });
  t.regex(none, /aria-labelledby="c2-title c2-desc"/);
});
