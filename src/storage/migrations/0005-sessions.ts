import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // What the account page shows of each browser session: oidc-provider's Session keeps no
  // device or address, so they are recorded beside it, keyed by the session's uid (its sid).
  await sql`
    create table session_activity (
      session_uid text primary key,
      account_id text not null,
      user_agent text,
      ip text,
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index session_activity_account on session_activity (account_id)`.execute(db);
  // Sessions ended for a reason the browser should be told on its next visit (signed in elsewhere,
  // signed out from the account page). Keyed by a hash of the session cookie's value.
  await sql`
    create table ended_sessions (
      cookie_hash text primary key,
      reason text not null,
      expires_at timestamptz not null
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists ended_sessions`.execute(db);
  await sql`drop table if exists session_activity`.execute(db);
}
