import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Second factors (src/mfa). One row per authenticator app, SMS phone or passkey; only confirmed
  // rows count. Authenticator secrets are sealed with SECRET_ENCRYPTION_KEY (AES-256-GCM), never
  // stored in clear; totp_last_step refuses a code's reuse.
  await sql`
    create table mfa_factors (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      kind text not null check (kind in ('totp', 'sms', 'passkey')),
      label text,
      totp_secret text,
      totp_last_step bigint,
      phone text,
      credential_id text unique,
      public_key text,
      sign_count bigint,
      transports text,
      device_type text,
      backed_up boolean,
      confirmed_at timestamptz,
      created_at timestamptz not null default now(),
      last_used_at timestamptz
    )`.execute(db);
  await sql`create index mfa_factors_user on mfa_factors (user_id)`.execute(db);

  // Ten single-use recovery codes per user, stored as SHA-256 hashes (the codes carry over 138 random bits).
  await sql`
    create table mfa_recovery_codes (
      code_hash text primary key,
      user_id text not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      used_at timestamptz
    )`.execute(db);
  await sql`create index mfa_recovery_codes_user on mfa_recovery_codes (user_id)`.execute(db);

  // SMS codes, at sign-in or while a phone is being enrolled: hashed, 10-minute codes, at most
  // five attempts per challenge however often the code is resent.
  await sql`
    create table mfa_sms_challenges (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      purpose text not null,
      phone text not null,
      code_hash text not null,
      attempts integer not null default 0,
      sends integer not null default 1,
      last_sent_at timestamptz not null,
      code_expires_at timestamptz not null,
      expires_at timestamptz not null,
      consumed_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index mfa_sms_challenges_user on mfa_sms_challenges (user_id, purpose)`.execute(db);

  // WebAuthn challenges: single use (deleted when used), short-lived.
  await sql`
    create table webauthn_challenges (
      id text primary key,
      purpose text not null,
      user_id text,
      challenge text not null,
      expires_at timestamptz not null
    )`.execute(db);

  // "Recordar este dispositivo": a hash of the device cookie's token. Removed when the user's factors
  // change; a password change after created_at also voids it.
  await sql`
    create table mfa_remembered_devices (
      token_hash text primary key,
      user_id text not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index mfa_remembered_devices_user on mfa_remembered_devices (user_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'mfa_remembered_devices',
    'webauthn_challenges',
    'mfa_sms_challenges',
    'mfa_recovery_codes',
    'mfa_factors',
  ]) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
