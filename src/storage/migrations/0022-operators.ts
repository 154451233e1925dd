import { type Kysely, sql } from 'kysely';

/**
 * Operators of the console at /admin (src/admin-console/operators.ts): people granted with
 * `umbral operators add --email E`. Keyed by the user, not the address, so a grant follows its
 * person through an email change and ends with the account. `granted_by` is the CLI's operator.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table operators (
      user_id text primary key references users (id) on delete cascade,
      granted_at timestamptz not null default now(),
      granted_by text
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists operators`.execute(db);
}
