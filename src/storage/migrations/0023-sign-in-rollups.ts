import { type Kysely, sql } from 'kysely';

/**
 * The company metrics (src/organizations/organization-metrics.ts) from running totals instead of
 * every event of the window: 30 days of 100,000 sign-ins took two aggregates over 100,000 index
 * entries (PostgreSQL 56 + 28 ms, PGlite about 2.5 times that, past the page's 200 ms).
 * - `organization_sign_in_days`: sign-ins per organization, UTC day and method.
 * - `organization_member_sign_ins`: each person's last sign-in at an organization's portals.
 * A statement trigger on `sign_in_events` keeps both, whoever inserts (the batched writer, the
 * bench's seeding, an import), in the inserting transaction. Its upserts go in key order, so two
 * nodes flushing batches that touch the same rows wait for each other instead of deadlocking.
 * The retention purge trims them with the events (src/organizations/sign-in-events.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table organization_sign_in_days (
      organization_id text not null,
      day date not null,
      method text not null,
      sign_ins integer not null,
      primary key (organization_id, day, method)
    )`.execute(db);
  await sql`
    create table organization_member_sign_ins (
      organization_id text not null,
      user_id text not null,
      last_at timestamptz not null,
      primary key (organization_id, user_id)
    )`.execute(db);
  // The active members of a window: those whose last sign-in is in it.
  await sql`
    create index organization_member_sign_ins_recent on organization_member_sign_ins (organization_id, last_at)
  `.execute(db);
  await sql
    .raw(`
    create function sign_in_events_rollup() returns trigger language plpgsql as $$
    begin
      ${addToTotals('inserted').join(';\n')};
      return null;
    end $$`)
    .execute(db);
  await sql`
    create trigger sign_in_events_rollup after insert on sign_in_events
    referencing new table as inserted for each statement execute function sign_in_events_rollup()
  `.execute(db);
  // What was recorded before.
  for (const statement of addToTotals('sign_in_events')) await sql.raw(statement).execute(db);
}

/**
 * What the sign-ins in `source` add to the totals: the trigger's transition table of one insert,
 * or every event recorded at the backfill. In key order (see above).
 */
function addToTotals(source: 'inserted' | 'sign_in_events'): string[] {
  return [
    `insert into organization_sign_in_days (organization_id, day, method, sign_ins)
        select organization_id, (occurred_at at time zone 'UTC')::date, method, count(*)
        from ${source} where organization_id is not null
        group by 1, 2, 3 order by 1, 2, 3
      on conflict (organization_id, day, method)
        do update set sign_ins = organization_sign_in_days.sign_ins + excluded.sign_ins`,
    `insert into organization_member_sign_ins (organization_id, user_id, last_at)
        select organization_id, user_id, max(occurred_at)
        from ${source} where organization_id is not null
        group by 1, 2 order by 1, 2
      on conflict (organization_id, user_id)
        do update set last_at = greatest(organization_member_sign_ins.last_at, excluded.last_at)`,
  ];
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists sign_in_events_rollup on sign_in_events`.execute(db);
  await sql`drop function if exists sign_in_events_rollup()`.execute(db);
  await sql`drop table if exists organization_member_sign_ins`.execute(db);
  await sql`drop table if exists organization_sign_in_days`.execute(db);
}
