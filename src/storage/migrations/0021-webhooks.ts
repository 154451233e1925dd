import { type Kysely, sql } from 'kysely';

/**
 * Webhooks (src/webhooks): the endpoints operators register, the queue of deliveries and the
 * history of their attempts.
 *
 * - `webhook_endpoints`: where to POST, which event types (a jsonb array of strings), whether it
 *   is enabled, and the signing secret sealed with the SecretBox (it must be opened to sign).
 * - `webhook_deliveries`: one row per event and endpoint, made when the event happens (an insert
 *   that selects the subscribed endpoints). Its `id` is the `webhook-id` every attempt sends;
 *   `payload` is the exact body signed. The worker claims due rows with FOR UPDATE SKIP LOCKED.
 * - `webhook_attempts`: each POST made: when, the status code or the error, how long it took.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table webhook_endpoints (
      id text primary key,
      url text not null,
      description text,
      event_types jsonb not null,
      enabled boolean not null default true,
      secret_sealed text not null,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);
  await sql`
    create table webhook_deliveries (
      id text primary key,
      endpoint_id text not null references webhook_endpoints (id) on delete cascade,
      event_type text not null,
      payload text not null,
      status text not null default 'pending' check (status in ('pending', 'sending', 'delivered', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null,
      created_at timestamptz not null,
      finished_at timestamptz,
      last_error text
    )`.execute(db);
  // The worker's claim: due rows, soonest first.
  await sql`create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status in ('pending', 'sending')`.execute(
    db,
  );
  // An endpoint's history, newest first; also the purge of finished rows.
  await sql`create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, created_at)`.execute(db);
  await sql`
    create table webhook_attempts (
      delivery_id text not null references webhook_deliveries (id) on delete cascade,
      attempt integer not null,
      attempted_at timestamptz not null,
      status_code integer,
      error text,
      duration_ms integer not null,
      primary key (delivery_id, attempt)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists webhook_attempts`.execute(db);
  await sql`drop table if exists webhook_deliveries`.execute(db);
  await sql`drop table if exists webhook_endpoints`.execute(db);
}
