import { type Kysely, sql } from 'kysely';

/**
 * Company admins' insights (src/organizations/sign-in-events.ts, organization-metrics.ts,
 * weekly-summary*.ts):
 * - `sign_in_events`: one row per completed sign-in (method, portal, the organization chosen for
 *   it), kept SIGN_IN_EVENTS_RETENTION_DAYS. No foreign keys, as for the audit log: rows are
 *   written in batches after the sign-in, and a user or company removed meanwhile must not make the
 *   whole batch fail; the retention purge removes what is left.
 * - `weekly_summary_opt_outs`: admins who turned the weekly summary off (on unless listed).
 * - `weekly_summary_runs`: the week each organization's summary was sent, claimed in the
 *   transaction that queues its mail, so it is sent once across processes.
 * - `organization_join_requests`: someone gave, at the company step, the tax id of a company
 *   registered already; its admins are mailed once a day at most per person.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table sign_in_events (
      id bigint generated always as identity primary key,
      user_id text not null,
      organization_id text,
      client_id text not null,
      method text not null check (method in ('password', 'passkey', 'google', 'microsoft')),
      occurred_at timestamptz not null
    )`.execute(db);
  // Metrics of one organization over a window (per day, active members, methods).
  await sql`
    create index sign_in_events_organization on sign_in_events (organization_id, occurred_at)
    include (user_id, method) where organization_id is not null`.execute(db);
  // Each member's last sign-in per method: an index-only scan per member listed.
  await sql`
    create index sign_in_events_member on sign_in_events (organization_id, user_id, method, occurred_at)
    where organization_id is not null`.execute(db);
  // The retention purge.
  await sql`create index sign_in_events_time on sign_in_events (occurred_at)`.execute(db);

  await sql`
    create table weekly_summary_opt_outs (
      organization_id text not null references organizations (id) on delete cascade,
      user_id text not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      primary key (organization_id, user_id)
    )`.execute(db);
  await sql`
    create table weekly_summary_runs (
      organization_id text not null references organizations (id) on delete cascade,
      week_start date not null,
      sent_at timestamptz not null,
      recipients integer not null,
      primary key (organization_id, week_start)
    )`.execute(db);
  await sql`
    create table organization_join_requests (
      organization_id text not null references organizations (id) on delete cascade,
      user_id text not null references users (id) on delete cascade,
      client_id text not null,
      requested_at timestamptz not null,
      primary key (organization_id, user_id)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists organization_join_requests`.execute(db);
  await sql`drop table if exists weekly_summary_runs`.execute(db);
  await sql`drop table if exists weekly_summary_opt_outs`.execute(db);
  await sql`drop table if exists sign_in_events`.execute(db);
}
