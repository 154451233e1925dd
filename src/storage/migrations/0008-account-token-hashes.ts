import { type Kysely, sql } from 'kysely';

/**
 * Email-change links were stored as base64url SHA-256, the other account tokens as hex: every
 * purpose now stores hex (src/users/account-tokens.ts). The same digest, re-encoded, so links
 * already mailed keep working.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    update account_tokens
    set token_hash = encode(decode(translate(token_hash, '-_', '+/') || '=', 'base64'), 'hex')
    where purpose = 'change_email' and token_hash ~ '^[A-Za-z0-9_-]{43}$'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    update account_tokens
    set token_hash = rtrim(translate(encode(decode(token_hash, 'hex'), 'base64'), '+/', '-_'), '=')
    where purpose = 'change_email' and token_hash ~ '^[0-9a-f]{64}$'`.execute(db);
}
