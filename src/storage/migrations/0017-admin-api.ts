import { type Kysely, sql } from 'kysely';

/**
 * The Admin API (src/admin-api): the answers to POSTs sent with an Idempotency-Key, kept 24 hours
 * per caller, so a retried request gets the first answer and never makes a second object.
 * `request_hash` is the SHA-256 of the method, path and body: the same key with another request
 * is refused. `status` is null while the first request is still being answered. The answer is
 * sealed (SECRET_ENCRYPTION_KEY): it may hold a secret shown once, such as a new client's.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table admin_idempotency_keys (
      caller text not null,
      key text not null,
      request_hash text not null,
      status integer,
      response text,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      primary key (caller, key)
    )`.execute(db);
  await sql`create index admin_idempotency_keys_expiry on admin_idempotency_keys (expires_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists admin_idempotency_keys`.execute(db);
}
