import { type Kysely, sql } from 'kysely';

/**
 * The audit log (src/audit): one row per security-relevant event — sign-ins, second factors,
 * passwords, emails, sessions ended, federated links, operators' changes. Who did it (`actor_kind`
 * user | operator | client | system, and `actor_id`), whom it concerns (`subject_user_id`), the
 * organization, the request's address and user agent, and `data`: a before/after summary that
 * never holds a secret. No foreign keys: an event outlives the user, client or company it names.
 * Listed newest first by (occurred_at, id), which is also the cursor.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_events (
      id text primary key,
      occurred_at timestamptz not null,
      type text not null,
      actor_kind text not null check (actor_kind in ('user', 'operator', 'client', 'system')),
      actor_id text,
      subject_user_id text,
      organization_id text,
      ip text,
      user_agent text,
      data jsonb not null default '{}'::jsonb
    )`.execute(db);
  // Newest first within each filter; the time index also serves the retention purge.
  await sql`create index audit_events_time on audit_events (occurred_at, id)`.execute(db);
  await sql`create index audit_events_type on audit_events (type, occurred_at)`.execute(db);
  await sql`create index audit_events_subject on audit_events (subject_user_id, occurred_at)`.execute(db);
  await sql`create index audit_events_organization on audit_events (organization_id, occurred_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists audit_events`.execute(db);
}
