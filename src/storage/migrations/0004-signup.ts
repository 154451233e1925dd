import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Self-service sign-ups must prove their email before a login completes; accounts created by
  // operators are vouched for (their email_verified only says whether the claim may be asserted).
  await sql`alter table users add column email_verification_required boolean not null default false`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table users drop column if exists email_verification_required`.execute(db);
}
