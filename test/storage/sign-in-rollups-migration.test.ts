import test from 'ava';
import { sql } from 'kysely';
import type { Storage } from '../../src/storage/database.ts';
import { storeForMigrations } from '../support/migration-store.ts';
import { STORES } from '../support/stores.ts';

type Db = Storage['db'];

const at = (iso: string) => new Date(iso);
const event = (user_id: string, organization_id: string | null, method: string, occurred_at: string) => ({
  user_id,
  organization_id,
  client_id: 'crm',
  method,
  occurred_at: at(occurred_at),
});

/** The running totals as stored, in key order. */
async function totals(db: Db) {
  const days = await db
    .selectFrom('organization_sign_in_days')
    .select(['organization_id', sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'method', 'sign_ins'])
    .orderBy('organization_id')
    .orderBy('day')
    .orderBy('method')
    .execute();
  const people = await db
    .selectFrom('organization_member_sign_ins')
    .select(['organization_id', 'user_id', 'last_at'])
    .orderBy('organization_id')
    .orderBy('user_id')
    .execute();
  return { days, people: people.map((p) => ({ ...p, last_at: new Date(p.last_at) })) };
}

/** The same totals counted from the events themselves. */
async function countedFromEvents(db: Db) {
  const { rows: days } = await sql<{ organization_id: string; day: string; method: string; sign_ins: number }>`
    select organization_id, to_char((occurred_at at time zone 'UTC')::date, 'YYYY-MM-DD') as day, method,
           count(*)::int as sign_ins
    from sign_in_events where organization_id is not null group by 1, 2, 3 order by 1, 2, 3`.execute(db);
  const { rows: people } = await sql<{ organization_id: string; user_id: string; last_at: Date }>`
    select organization_id, user_id, max(occurred_at) as last_at
    from sign_in_events where organization_id is not null group by 1, 2 order by 1, 2`.execute(db);
  return { days, people: people.map((p) => ({ ...p, last_at: new Date(p.last_at) })) };
}

async function tableExists(db: Db, name: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`select to_regclass(${name}) is not null as found`.execute(db);
  return rows[0]!.found;
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] 0023 totals the sign-ins recorded before it, and its trigger those inserted after`,
    async (t) => {
      const { db, migrator } = await storeForMigrations(t, kind);
      t.falsy((await migrator.migrateTo('0022-operators')).error);
      t.false(await tableExists(db, 'organization_sign_in_days'));

      await db
        .insertInto('sign_in_events')
        .values([
          event('ana', 'acme', 'password', '2026-11-20T08:00:00Z'),
          event('ana', 'acme', 'password', '2026-11-20T23:59:59Z'),
          event('ana', 'acme', 'passkey', '2026-11-21T00:00:00Z'),
          event('beto', 'acme', 'google', '2026-11-20T12:00:00Z'),
          event('ana', 'otra', 'password', '2026-11-20T09:00:00Z'),
          event('ana', null, 'password', '2026-11-22T09:00:00Z'),
        ])
        .execute();
      t.falsy((await migrator.migrateTo('0023-sign-in-rollups')).error);
      t.deepEqual(await totals(db), {
        days: [
          { organization_id: 'acme', day: '2026-11-20', method: 'google', sign_ins: 1 },
          { organization_id: 'acme', day: '2026-11-20', method: 'password', sign_ins: 2 },
          { organization_id: 'acme', day: '2026-11-21', method: 'passkey', sign_ins: 1 },
          { organization_id: 'otra', day: '2026-11-20', method: 'password', sign_ins: 1 },
        ],
        people: [
          { organization_id: 'acme', user_id: 'ana', last_at: at('2026-11-21T00:00:00Z') },
          { organization_id: 'acme', user_id: 'beto', last_at: at('2026-11-20T12:00:00Z') },
          { organization_id: 'otra', user_id: 'ana', last_at: at('2026-11-20T09:00:00Z') },
        ],
      });

      // One statement adding to a day already counted, opening another, and an older sign-in of
      // ana's that must not move her last one back; then a second statement on the same keys.
      await db
        .insertInto('sign_in_events')
        .values([
          event('ana', 'acme', 'password', '2026-11-20T10:00:00Z'),
          event('caro', 'acme', 'microsoft', '2026-11-23T10:00:00Z'),
          event('ana', 'acme', 'password', '2026-11-19T10:00:00Z'),
          event('beto', null, 'google', '2026-11-23T10:00:00Z'),
        ])
        .execute();
      await db
        .insertInto('sign_in_events')
        .values([event('caro', 'acme', 'microsoft', '2026-11-23T11:00:00Z')])
        .execute();
      const kept = await totals(db);
      t.deepEqual(kept, await countedFromEvents(db));
      t.like(
        kept.days.find((d) => d.organization_id === 'acme' && d.day === '2026-11-20' && d.method === 'password'),
        {
          sign_ins: 3,
        },
      );
      t.deepEqual(
        kept.people.find((p) => p.user_id === 'ana' && p.organization_id === 'acme')?.last_at,
        at('2026-11-21T00:00:00Z'),
      );

      t.falsy((await migrator.migrateDown()).error);
      t.false(await tableExists(db, 'organization_sign_in_days'));
      t.false(await tableExists(db, 'organization_member_sign_ins'));
      await db
        .insertInto('sign_in_events')
        .values([event('ana', 'acme', 'password', '2026-11-24T10:00:00Z')])
        .execute();
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from sign_in_events`.execute(db);
      t.is(rows[0]!.n, 12, 'with the trigger gone, events are written as before');
    },
  );
}
