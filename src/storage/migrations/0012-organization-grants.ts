import { type Kysely, sql } from 'kysely';

/**
 * The organization each authorization is for (src/organizations/organization-grants.ts): one row
 * per oidc-provider grant, i.e. per session and portal, null when it is for none. A grant's
 * organization never changes; a switch to another (or to none) replaces the grant and revokes its
 * tokens, so a token is never re-labelled. No foreign key to organizations: a removed organization's grants must keep failing.
 *
 * And which upstream provider a federated sign-in of a session used (amr says only `fed`), so an
 * organization's allowed sign-in methods can be judged again on the session's later authorizations.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table organization_grants (
      grant_id text primary key,
      -- null: the authorization is for no organization (an optional portal, a person without one)
      organization_id text,
      account_id text not null,
      client_id text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index organization_grants_organization on organization_grants (organization_id)`.execute(db);
  await sql`create index organization_grants_expiry on organization_grants (expires_at)`.execute(db);
  await sql`
    create table session_upstreams (
      session_uid text primary key,
      login_ts bigint not null,
      upstream text not null,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index session_upstreams_expiry on session_upstreams (expires_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists session_upstreams`.execute(db);
  await sql`drop table if exists organization_grants`.execute(db);
}
