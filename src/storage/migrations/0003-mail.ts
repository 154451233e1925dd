import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Outgoing email, delivered by an in-process worker. `data` holds the template values (often secret
  // links) only until the message is sent or given up; the rendered copy is kept only by the dev outbox.
  await sql`
    create table mail_queue (
      id text primary key,
      to_address text not null,
      template text not null,
      locale text not null,
      data jsonb not null,
      status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text,
      created_at timestamptz not null default now(),
      sent_at timestamptz,
      subject text,
      text_body text,
      html_body text
    )`.execute(db);
  // The worker's claim query: due rows, oldest first.
  await sql`create index mail_queue_due on mail_queue (next_attempt_at) where status in ('pending', 'sending')`.execute(
    db,
  );
  await sql`create index mail_queue_created_at on mail_queue (created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists mail_queue`.execute(db);
}
