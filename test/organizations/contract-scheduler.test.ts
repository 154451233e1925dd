import test from 'ava';
import { createLogger } from '../../src/logging/logger.ts';
import { ContractScheduler, type SchedulerRun } from '../../src/organizations/contract-scheduler.ts';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { OrganizationMail } from '../../src/organizations/organization-mail.ts';
import { OrganizationSessions } from '../../src/organizations/organization-sessions.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import type { Storage } from '../../src/storage/database.ts';
import { UserRepository } from '../../src/users/users.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';
import {
  addMember,
  addOrganization,
  DAY,
  HOUR,
  mailsTo,
  type OrganizationWorld,
  organizationWorlds,
} from './organization-world.ts';

const worlds = organizationWorlds(test);

/** The invitation link in a mail the dev outbox rendered: from ISSUER, and its token. */
function invitationLink(world: OrganizationWorld, text: string | null): { url: string; token: string } {
  const prefix = `${world.server.issuer}/invitations/`;
  const url = text?.split('\n').find((line) => line.startsWith(prefix));
  if (!url) throw new Error(`no invitation link in ${text}`);
  return { url, token: url.slice(prefix.length) };
}

/** A second scheduler over `db`, as another process (or the same one after a restart) runs it. */
function anotherScheduler(world: OrganizationWorld, db: Storage['db'], mail = world.mail) {
  const logger = createLogger('silent');
  return new ContractScheduler({
    db,
    logger,
    mail,
    sessions: new OrganizationSessions({ provider: async () => world.server.umbral.provider, logger }),
    endWarningDays: 14,
    now: () => world.clock.now(),
  });
}

for (const kind of STORES) {
  test.serial(`[${kind}] a company scheduled 5 s ahead mails nothing before its time, then the welcome`, async (t) => {
    const world = await worlds(kind);
    const { server, clock } = world;
    const org = await addOrganization(world, {
      name: 'Acme S.A.',
      slug: 'acme',
      activatesAt: new Date(clock.now() + 5000),
      homeClientId: 'crm',
    });
    await world.mail.invite(server.umbral.storage.db, org.row, {
      email: 'ana@acme.example',
      roles: ['admin'],
      invitedBy: 'operator',
      linkTtlMs: 7 * DAY,
    });
    await world.mail.invite(server.umbral.storage.db, org.row, {
      email: 'bruno@acme.example',
      roles: ['member'],
      invitedBy: 'operator',
      linkTtlMs: 2 * DAY,
    });
    const contracts = server.umbral.contracts;

    t.like(await contracts.runOnce(), { activated: 0, invitationsMailed: 0 });
    clock.offset += 4000;
    t.like(await contracts.runOnce(), { activated: 0, invitationsMailed: 0 }, 'a second early: still nothing');
    t.deepEqual(await mailsTo(world, 'ana@acme.example'), []);

    clock.offset += 1000;
    t.like(await contracts.runOnce(), { activated: 1, invitationsMailed: 2 });
    t.like(await contracts.runOnce(), { activated: 0, invitationsMailed: 0 }, 'once');
    t.truthy((await world.orgs.findById(org.row.id))!.row.welcomed_at);

    await server.umbral.mailer.drain();
    const [welcome] = await mailsTo(world, 'ana@acme.example');
    t.like(welcome, { template: 'organization-welcome', locale: 'es', status: 'sent' });
    t.is(welcome!.subject, 'Acme S.A. ya tiene acceso a Portal crm: crea tu cuenta');
    t.regex(
      welcome!.text_body!,
      /Se activó la cuenta de Acme S\.A\. en Portal crm y te designaron para administrarla\./,
    );
    t.regex(welcome!.text_body!, /Tus roles: administración\./);
    t.regex(welcome!.html_body!, /Crear mi cuenta/);
    const link = invitationLink(world, welcome!.text_body);
    t.regex(link.token, /^[A-Za-z0-9_-]{43,}$/, 'at least 256 bits, as every emailed link');
    const invitation = await new InvitationRepository(server.umbral.storage.db, () => clock.now()).findByToken(
      link.token,
    );
    t.like(invitation, { state: 'pending', roles: ['admin'] });
    const expiry = new Date(invitation!.row.expires_at).getTime() - clock.now();
    t.true(expiry > 7 * DAY - 60_000 && expiry <= 7 * DAY, 'the link is valid for a week from the welcome');

    const [invited] = await mailsTo(world, 'bruno@acme.example');
    t.like(invited, { template: 'organization-invitation', subject: 'Invitación a Acme S.A. en Portal crm' });
    t.regex(invited!.text_body!, /Acme S\.A\. te invitó a unirte a su equipo en Portal crm\./);
    t.regex(invited!.text_body!, /Tus roles: miembro\./);
    const bruno = await new InvitationRepository(server.umbral.storage.db, () => clock.now()).findByToken(
      invitationLink(world, invited!.text_body).token,
    );
    const brunoExpiry = new Date(bruno!.row.expires_at).getTime() - clock.now();
    t.true(brunoExpiry > 2 * DAY - 60_000 && brunoExpiry <= 2 * DAY, 'a waiting invitation keeps its own validity');
  });

  test.serial(
    `[${kind}] emails speak the invited person's language, name who invited, and come from ISSUER`,
    async (t) => {
      const world = await worlds(kind);
      const { server } = world;
      const db = server.umbral.storage.db;
      const org = await addOrganization(world, { name: 'Beta Ltda', homeClientId: 'wiki' });
      const admin = await addMember(world, org.row.id, 'carla@beta.example', ['admin']);
      await db.updateTable('users').set({ name: 'Carla Díaz' }).where('id', '=', admin.id).execute();
      const lucia = await server.users.create({
        email: 'lucia@beta.example',
        password: 'x'.repeat(12),
        emailVerified: true,
      });
      await db.updateTable('users').set({ locale: 'pt-BR' }).where('id', '=', lucia.id).execute();
      const john = await server.users.create({
        email: 'john@beta.example',
        password: 'x'.repeat(12),
        emailVerified: true,
      });
      await db.updateTable('users').set({ locale: 'en' }).where('id', '=', john.id).execute();
      for (const [email, roles] of [
        ['lucia@beta.example', ['member']],
        ['john@beta.example', ['admin']],
        ['nadie@beta.example', ['member']],
      ] as const) {
        await world.mail.invite(db, org.row, { email, roles: [...roles], invitedBy: admin.id, linkTtlMs: DAY });
      }
      await server.umbral.mailer.drain();
      const [pt] = await mailsTo(world, 'lucia@beta.example');
      t.like(pt, { locale: 'pt-BR', subject: 'Convite para Beta Ltda no Portal wiki' });
      t.regex(pt!.text_body!, /Carla Díaz convidou você para fazer parte de Beta Ltda no Portal wiki\./);
      t.regex(pt!.text_body!, /Suas funções: membro\./);
      const [en] = await mailsTo(world, 'john@beta.example');
      t.like(en, { locale: 'en', template: 'organization-welcome' });
      t.regex(en!.text_body!, /Carla Díaz designated you to administer it\./);
      t.regex(en!.text_body!, /The link expires on .* UTC and works only once\./);
      const [es] = await mailsTo(world, 'nadie@beta.example');
      t.is(es!.locale, 'es', 'no account: Spanish');
      t.true(invitationLink(world, es!.text_body).url.startsWith(`${server.issuer}/invitations/`));

      // Without a home client the portal is the product.
      const plain = await addOrganization(world, { name: 'Gamma' });
      await world.mail.invite(db, plain.row, {
        email: 'x@gamma.example',
        roles: ['member'],
        invitedBy: null,
        linkTtlMs: DAY,
      });
      await server.umbral.mailer.drain();
      t.is((await mailsTo(world, 'x@gamma.example'))[0]!.subject, 'Invitación a Gamma en Umbral');
    },
  );

  test.serial(`[${kind}] the end warning goes to the admins once, ORG_END_WARNING_DAYS before the end`, async (t) => {
    const world = await worlds(kind);
    const { server, clock } = world;
    const org = await addOrganization(world, { name: 'Delta', endsAt: new Date(clock.now() + 20 * DAY) });
    const admin = await addMember(world, org.row.id, 'ada@delta.example', ['admin', 'member']);
    await server.umbral.storage.db.updateTable('users').set({ locale: 'en' }).where('id', '=', admin.id).execute();
    const chilean = await addMember(world, org.row.id, 'eli@delta.example', ['admin']);
    await server.umbral.storage.db
      .updateTable('users')
      .set({ time_zone: 'America/Santiago' })
      .where('id', '=', chilean.id)
      .execute();
    await addMember(world, org.row.id, 'max@delta.example', ['member']);
    const contracts = server.umbral.contracts;
    t.like(await contracts.runOnce(), { warned: 0 });
    clock.offset += 6 * DAY - 60_000;
    t.like(await contracts.runOnce(), { warned: 0 }, 'a minute before the 14 days');
    clock.offset += 120_000;
    t.like(await contracts.runOnce(), { warned: 1 });
    t.like(await contracts.runOnce(), { warned: 0 }, 'once');
    await server.umbral.mailer.drain();
    // Sent by the scheduler, outside any request: each admin's stored zone, else the issuer's.
    const [inChile] = await mailsTo(world, 'eli@delta.example');
    const endsAt = new Date((await world.orgs.findById(org.row.id))!.row.ends_at!);
    const chileTime = new Intl.DateTimeFormat('es', { timeStyle: 'short', timeZone: 'America/Santiago' }).format(
      endsAt,
    );
    t.regex(inChile!.subject!, new RegExp(`${chileTime.replace(/\s/g, '\\s')} \\(GMT-[34]\\)$`));
    t.notRegex(inChile!.subject!, /UTC/);
    const [warning] = await mailsTo(world, 'ada@delta.example');
    t.like(warning, { template: 'organization-end-warning', locale: 'en' });
    t.regex(warning!.subject!, /^The contract of Delta at Umbral ends on .+ UTC$/);
    t.regex(warning!.text_body!, /their open sessions will end/);
    t.deepEqual(await mailsTo(world, 'max@delta.example'), [], 'members are not warned');
    t.truthy((await world.orgs.findById(org.row.id))!.row.end_warned_at);

    // A new end date is a new event, warned about again.
    await world.orgs.update(org.row.id, { endsAt: new Date(clock.now() + 10 * DAY) });
    t.like(await contracts.runOnce(), { warned: 1 });
  });

  test.serial(`[${kind}] a suspended company is not welcomed until it resumes`, async (t) => {
    const world = await worlds(kind);
    const { server, clock } = world;
    const org = await addOrganization(world, { activatesAt: new Date(clock.now() + HOUR) });
    await world.mail.invite(server.umbral.storage.db, org.row, {
      email: 'eva@eps.example',
      roles: ['admin'],
      invitedBy: 'operator',
      linkTtlMs: DAY,
    });
    await world.orgs.suspend(org.row.id);
    clock.offset += 2 * HOUR;
    t.like(await server.umbral.contracts.runOnce(), { activated: 0 });
    await world.orgs.resume(org.row.id);
    t.like(await server.umbral.contracts.runOnce(), { activated: 1, invitationsMailed: 1 });
  });

  test.serial(
    `[${kind}] a run that fails halfway leaves nothing done; the next (another process, a restart) does it once`,
    async (t) => {
      const world = await worlds(kind);
      const { server, clock } = world;
      const db = server.umbral.storage.db;
      const org = await addOrganization(world, { activatesAt: new Date(clock.now() + 1000) });
      for (const email of ['a@zeta.example', 'b@zeta.example']) {
        await world.mail.invite(db, org.row, { email, roles: ['admin'], invitedBy: 'operator', linkTtlMs: DAY });
      }
      clock.offset += 2000;
      // Dies after queuing the mails and making the links, before the mark: the transaction rolls back.
      const crashing = new OrganizationMail({ issuer: server.issuer, productName: 'Umbral', now: () => clock.now() });
      crashing.deliverWaiting = async (trx, organization) => {
        await OrganizationMail.prototype.deliverWaiting.call(crashing, trx, organization);
        throw new Error('process killed');
      };
      t.like(await anotherScheduler(world, db, crashing).runOnce(), { activated: 0, invitationsMailed: 0 });
      t.deepEqual(await mailsTo(world, 'a@zeta.example'), []);
      const left = await db.selectFrom('organization_invitations').select(['token_hash', 'times_sent']).execute();
      t.deepEqual(left, [
        { token_hash: null, times_sent: 0 },
        { token_hash: null, times_sent: 0 },
      ]);
      t.is((await world.orgs.findById(org.row.id))!.row.welcomed_at, null);

      t.like(await anotherScheduler(world, db).runOnce(), { activated: 1, invitationsMailed: 2 });
      t.like(await server.umbral.contracts.runOnce(), { activated: 0, invitationsMailed: 0 });
      t.is((await mailsTo(world, 'a@zeta.example')).length, 1);
      t.is((await mailsTo(world, 'b@zeta.example')).length, 1);
    },
  );
}

for (const kind of STORES) {
  test(`[${kind}] after a restart, what was done stays done and what was due is carried out`, async (t) => {
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    let offset = 0;
    const now = () => Date.now() + offset;
    const env = { ORG_SCHEDULER_INTERVAL_SECONDS: '3600' };
    const first = await startUmbral(store, env, { now });
    const mail = new OrganizationMail({ issuer: first.issuer, productName: 'Umbral', now });
    const repo = new OrganizationRepository(first.umbral.storage.db);
    const early = await repo.create({ name: 'Early', slug: 'early', activatesAt: new Date(now() + 1000) });
    const late = await repo.create({ name: 'Late', slug: 'late', activatesAt: new Date(now() + HOUR) });
    for (const [org, email] of [
      [early, 'e@early.example'],
      [late, 'l@late.example'],
    ] as const) {
      await mail.invite(first.umbral.storage.db, org.row, {
        email,
        roles: ['admin'],
        invitedBy: 'operator',
        linkTtlMs: DAY,
      });
    }
    offset += 2000;
    t.like(await first.umbral.contracts.runOnce(), { activated: 1 });
    await first.stop();

    offset += HOUR;
    const second = await startUmbral(store, env, { now });
    t.teardown(() => second.stop());
    const run: SchedulerRun = await second.umbral.contracts.runOnce();
    t.like(run, { activated: 1, invitationsMailed: 1 }, 'only the company that came due while it was down');
    const mails = await second.umbral.storage.db
      .selectFrom('mail_queue')
      .select('to_address')
      .orderBy('to_address')
      .execute();
    t.deepEqual(
      mails.map((m) => m.to_address),
      ['e@early.example', 'l@late.example'],
    );
  });
}

if (STORES.includes('postgres')) {
  test('two processes on one PostgreSQL carry out every event exactly once', async (t) => {
    const store = await createTestStore('postgres');
    t.teardown(() => store.cleanup());
    const storages = [await openTestStorage(store), await openTestStorage(store)];
    t.teardown(async () => {
      for (const s of storages) await s.close();
    });
    let offset = 0;
    const now = () => Date.now() + offset;
    const logger = createLogger('silent');
    const schedulers = storages.map(
      (storage) =>
        new ContractScheduler({
          db: storage.db,
          logger,
          mail: new OrganizationMail({ issuer: 'http://localhost:3000', productName: 'Umbral', now }),
          sessions: new OrganizationSessions({ provider: () => Promise.reject(new Error('no portals here')), logger }),
          endWarningDays: 14,
          now,
        }),
    );
    const db = storages[0]!.db;
    const repo = new OrganizationRepository(db);
    const mail = new OrganizationMail({ issuer: 'http://localhost:3000', productName: 'Umbral', now });
    const COMPANIES = 12;
    for (let i = 0; i < COMPANIES; i++) {
      const org = await repo.create({
        name: `Company ${i}`,
        slug: `company-${i}`,
        // An hour ahead: however slow the set-up, every company is still scheduled when it is invited.
        activatesAt: new Date(now() + HOUR),
        endsAt: new Date(now() + 10 * DAY),
      });
      for (const who of ['a', 'b']) {
        await mail.invite(db, org.row, {
          email: `${who}${i}@c.example`,
          roles: ['admin'],
          invitedBy: 'operator',
          linkTtlMs: DAY,
        });
      }
      const user = await new UserRepository(db).create({ email: `admin${i}@c.example`, emailVerified: true });
      await new MembershipRepository(db).join({
        organizationId: org.row.id,
        userId: user.id,
        roles: ['admin'],
        invitedBy: null,
      });
    }
    offset += 2 * HOUR;
    const runs = await Promise.all(Array.from({ length: 16 }, (_, i) => schedulers[i % 2]!.runOnce()));
    const total = (key: keyof SchedulerRun) => runs.reduce((sum, run) => sum + run[key], 0);
    t.is(total('activated'), COMPANIES);
    t.is(total('invitationsMailed'), 2 * COMPANIES);
    t.is(total('warned'), COMPANIES, 'their ends are within the warning already');
    const counts = await db
      .selectFrom('mail_queue')
      .select(['to_address', 'template', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy(['to_address', 'template'])
      .execute();
    t.is(counts.length, 3 * COMPANIES, 'every admin invited, every admin member warned');
    t.true(
      counts.every((c) => Number(c.n) === 1),
      'and each of them once',
    );

    offset += 10 * DAY;
    const ends = await Promise.all(Array.from({ length: 8 }, (_, i) => schedulers[i % 2]!.runOnce()));
    t.is(
      ends.reduce((sum, run) => sum + run.ended, 0),
      COMPANIES,
    );
  });
}
