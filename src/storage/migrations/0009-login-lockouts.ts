import { type Kysely, sql } from 'kysely';

/**
 * Consecutive wrong passwords per account (src/throttling/account-lockout.ts). Kept here, not in
 * the throttle counters: those may live in Redis, expire, or be wiped, and this count must not.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table login_lockouts (
      user_id text primary key references users (id) on delete cascade,
      failures integer not null,
      last_failure_at timestamptz not null,
      unlock_mailed_at timestamptz
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists login_lockouts`.execute(db);
}
