import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

/** How many cookie keys are kept: the newest signs, the older ones still verify. */
const KEPT = 3;

/** Cookie signing keys, newest first; the first is created on first start. */
export async function loadCookieKeys(db: Kysely<Database>): Promise<string[]> {
  let rows = await db
    .selectFrom('cookie_keys')
    .select('secret')
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(KEPT)
    .execute();
  if (rows.length === 0) {
    await addCookieKey(db);
    rows = await db
      .selectFrom('cookie_keys')
      .select('secret')
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(KEPT)
      .execute();
  }
  return rows.map((r) => r.secret);
}

export async function addCookieKey(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('cookie_keys')
    .values({ id: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('base64url') })
    .execute();
}
