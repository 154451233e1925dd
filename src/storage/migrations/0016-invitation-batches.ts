import { type Kysely, sql } from 'kysely';

/**
 * The company console's batches of invitations (src/org-console/invitation-batches.ts): what
 * became of each address of a pasted list or uploaded CSV, kept a day so the page the form's 303
 * leads to can show it (500 addresses do not fit in a cookie or a URL).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table organization_invitation_batches (
      id text primary key,
      organization_id text not null references organizations (id) on delete cascade,
      created_by text not null,
      outcome jsonb not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index organization_invitation_batches_time on organization_invitation_batches (created_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists organization_invitation_batches`.execute(db);
}
