import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table oidc_models (
      model text not null,
      id text not null,
      payload jsonb not null,
      grant_id text,
      user_code text,
      uid text,
      expires_at timestamptz,
      consumed_at timestamptz,
      primary key (model, id)
    )`.execute(db);
  await sql`create index oidc_models_grant_id on oidc_models (grant_id) where grant_id is not null`.execute(db);
  await sql`create index oidc_models_uid on oidc_models (model, uid) where uid is not null`.execute(db);
  await sql`create index oidc_models_user_code on oidc_models (model, user_code) where user_code is not null`.execute(
    db,
  );
  await sql`create index oidc_models_expires_at on oidc_models (expires_at) where expires_at is not null`.execute(db);

  await sql`
    create table clients (
      client_id text primary key,
      metadata jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table signing_keys (
      kid text primary key,
      alg text not null,
      private_jwk jsonb not null,
      created_at timestamptz not null default now(),
      retired_at timestamptz,
      unpublish_at timestamptz
    )`.execute(db);

  await sql`
    create table cookie_keys (
      id text primary key,
      secret text not null,
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table users (
      id text primary key,
      email text not null,
      email_verified boolean not null default false,
      name text,
      phone text,
      phone_verified boolean not null default false,
      password_hash text,
      disabled boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      last_login_at timestamptz
    )`.execute(db);
  await sql`create unique index users_email_lower on users (lower(email))`.execute(db);

  await sql`
    create table throttle (
      key text primary key,
      failures integer not null,
      last_failure_at timestamptz not null,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index throttle_expires_at on throttle (expires_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['throttle', 'users', 'cookie_keys', 'signing_keys', 'clients', 'oidc_models']) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
