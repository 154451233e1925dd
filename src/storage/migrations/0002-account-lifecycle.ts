import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table users add column terms_version text`.execute(db);
  await sql`alter table users add column terms_accepted_at timestamptz`.execute(db);
  await sql`alter table users add column locale text`.execute(db);
  // Bumped on every password change or reset: lets "remember me" and similar derived state be revoked.
  await sql`alter table users add column password_changed_at timestamptz`.execute(db);

  // Single-use secrets sent by email (verification, password reset, email change): only hashes are stored.
  await sql`
    create table account_tokens (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      purpose text not null,
      token_hash text not null unique,
      code_hash text,
      attempts integer not null default 0,
      data jsonb,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      code_expires_at timestamptz,
      consumed_at timestamptz
    )`.execute(db);
  await sql`create index account_tokens_user_purpose on account_tokens (user_id, purpose)`.execute(db);
  await sql`create index account_tokens_expires_at on account_tokens (expires_at)`.execute(db);

  // Sessions, grants and tokens are found by account (account page, single-session policy, revoking all after a reset).
  await sql`alter table oidc_models add column account_id text`.execute(db);
  await sql`create index oidc_models_account_id on oidc_models (model, account_id) where account_id is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists oidc_models_account_id`.execute(db);
  await sql`alter table oidc_models drop column if exists account_id`.execute(db);
  await sql`drop table if exists account_tokens`.execute(db);
  for (const column of ['password_changed_at', 'locale', 'terms_accepted_at', 'terms_version']) {
    await sql`alter table users drop column if exists ${sql.ref(column)}`.execute(db);
  }
}
