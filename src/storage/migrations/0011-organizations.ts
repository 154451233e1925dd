import { type Kysely, sql } from 'kysely';

/**
 * Companies (src/organizations): the organizations, the deployment-wide role templates every
 * organization uses, memberships, invitations, and the upstream tenants whose users join one.
 * The lifecycle columns (`welcomed_at`, `end_warned_at`, `ended_at`) record which contract event
 * has been carried out, so each happens once however many processes run the scheduler.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table roles (
      name text primary key,
      description text,
      permissions jsonb not null default '[]',
      built_in boolean not null default false,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    insert into roles (name, description, permissions, built_in) values
      ('admin', 'Manages the organization''s members, invitations and roles', '["org:manage"]', true),
      ('member', 'A member of the organization', '[]', true)`.execute(db);
  await sql`
    create table organizations (
      id text primary key,
      slug text not null unique,
      name text not null,
      country text,
      tax_id text,
      activates_at timestamptz not null,
      ends_at timestamptz,
      seat_limit integer,
      home_client_id text,
      require_mfa boolean not null default false,
      single_session boolean not null default false,
      sign_in_methods jsonb not null default '["password","google","microsoft","passkey"]',
      suspended_at timestamptz,
      welcomed_at timestamptz,
      end_warned_at timestamptz,
      ended_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (ends_at is null or ends_at > activates_at),
      check (seat_limit is null or seat_limit > 0)
    )`.execute(db);
  // The scheduler's due queries: organizations whose activation or end has not been carried out.
  await sql`create index organizations_welcome_due on organizations (activates_at) where welcomed_at is null`.execute(
    db,
  );
  await sql`create index organizations_end_due on organizations (ends_at) where ended_at is null and ends_at is not null`.execute(
    db,
  );
  // A Microsoft tenant (tid) or Google Workspace domain (hd) binds to one organization at most.
  await sql`
    create table organization_upstream_bindings (
      provider text not null check (provider in ('microsoft', 'google')),
      value text not null,
      organization_id text not null references organizations (id) on delete cascade,
      primary key (provider, value)
    )`.execute(db);
  await sql`create index organization_upstream_bindings_org on organization_upstream_bindings (organization_id)`.execute(
    db,
  );
  await sql`
    create table organization_memberships (
      organization_id text not null references organizations (id) on delete cascade,
      user_id text not null references users (id) on delete cascade,
      roles jsonb not null,
      joined_at timestamptz not null default now(),
      removed_at timestamptz,
      invited_by text,
      primary key (organization_id, user_id)
    )`.execute(db);
  await sql`create index organization_memberships_user on organization_memberships (user_id)`.execute(db);
  await sql`
    create table organization_invitations (
      id text primary key,
      organization_id text not null references organizations (id) on delete cascade,
      email text not null,
      roles jsonb not null,
      token_hash text unique,
      expires_at timestamptz not null,
      status text not null default 'pending' check (status in ('pending', 'accepted', 'revoked', 'expired')),
      times_sent integer not null default 0,
      last_sent_at timestamptz,
      invited_by text,
      designates_admin boolean not null default false,
      accepted_by text references users (id) on delete set null,
      accepted_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  // One pending invitation per address and organization; accepted and revoked ones stay as history.
  await sql`
    create unique index organization_invitations_pending
      on organization_invitations (organization_id, lower(email)) where status = 'pending'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists organization_invitations`.execute(db);
  await sql`drop table if exists organization_memberships`.execute(db);
  await sql`drop table if exists organization_upstream_bindings`.execute(db);
  await sql`drop table if exists organizations`.execute(db);
  await sql`drop table if exists roles`.execute(db);
}
