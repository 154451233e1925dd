import { type Kysely, sql } from 'kysely';

/**
 * The hosted pages' care (issue 14): the person's time zone (IANA, e.g. America/Santiago), taken
 * from the browser at sign-up or sign-in and editable on the account page, for the times shown on
 * pages and in emails; and an organization's own logo, shown instead of the portal's on its flows.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table users add column time_zone text`.execute(db);
  await sql`alter table organizations add column logo_uri text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table organizations drop column if exists logo_uri`.execute(db);
  await sql`alter table users drop column if exists time_zone`.execute(db);
}
