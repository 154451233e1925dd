import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { CookieSigner } from '../http/cookie-signer.ts';
import type { Database } from '../storage/schema.ts';

/** How many cookie keys are kept: the newest signs, the older ones still verify. */
const KEPT = 3;

const newest = (db: Kysely<Database>) =>
  db.selectFrom('cookie_keys').select('secret').orderBy('created_at', 'desc').orderBy('id').limit(KEPT).execute();

/**
 * The signer of Koa's and oidc-provider's cookies, over the kept keys, newest first; the first key
 * is created on first start, under a lock, so nodes starting at once on an empty database make one
 * key (with one each, a node would refuse the cookies another signed with a key it never loaded).
 */
export async function loadCookieSigner(db: Kysely<Database>): Promise<CookieSigner> {
  let rows = await newest(db);
  if (rows.length === 0) {
    rows = await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('umbral:cookie_keys'))`.execute(trx);
      if ((await newest(trx)).length === 0) await addCookieKey(trx);
      return newest(trx);
    });
  }
  return new CookieSigner(rows.map((r) => r.secret));
}

export async function addCookieKey(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('cookie_keys')
    .values({ id: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('base64url') })
    .execute();
}
