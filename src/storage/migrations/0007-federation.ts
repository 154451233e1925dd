import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Accounts at Google or Microsoft that sign in as a local user. Keyed on what the upstream
  // guarantees stable and unique, never on the email: Google (issuer, sub), Microsoft (tid, oid).
  await sql`
    create table federated_identities (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      provider text not null check (provider in ('google', 'microsoft')),
      realm text not null,
      subject text not null,
      email text,
      email_verified boolean not null default false,
      name text,
      last_amr jsonb,
      last_acr text,
      created_at timestamptz not null default now(),
      last_login_at timestamptz
    )`.execute(db);
  await sql`create unique index federated_identities_key on federated_identities (provider, realm, subject)`.execute(
    db,
  );
  await sql`create index federated_identities_user on federated_identities (user_id)`.execute(db);

  // One upstream sign-in in progress: state (stored hashed), nonce and PKCE verifier, bound to the
  // browser that started it and to the interaction it continues. Single use; rows live minutes.
  await sql`
    create table federation_logins (
      id text primary key,
      state_hash text not null unique,
      binding_hash text not null,
      provider text not null,
      interaction_uid text not null,
      nonce text not null,
      code_verifier text not null,
      status text not null default 'started' check (status in ('started', 'exchanging', 'authenticated', 'done')),
      upstream jsonb,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index federation_logins_expires_at on federation_logins (expires_at)`.execute(db);

  // Home-realm discovery: emails at these domains sign in at the named provider.
  await sql`
    create table domain_routes (
      domain text primary key,
      provider text not null check (provider in ('google', 'microsoft')),
      created_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists domain_routes`.execute(db);
  await sql`drop table if exists federation_logins`.execute(db);
  await sql`drop table if exists federated_identities`.execute(db);
}
