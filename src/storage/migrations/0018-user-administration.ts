import { type Kysely, sql } from 'kysely';

/**
 * Users' administration (src/users/user-administration.ts): when an account was disabled, shown
 * to operators next to `disabled` (which every sign-in method already checks). Searching by name
 * is a scan over `users` (a contains match, which no btree serves); listing is in the order of
 * the existing unique index on lower(email), which is also the cursor.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table users add column disabled_at timestamptz`.execute(db);
  await sql`update users set disabled_at = updated_at where disabled`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table users drop column if exists disabled_at`.execute(db);
}
