import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';

/**
 * Deletes verification, reset and email-change rows a week after they expired. Kept that long
 * because the sending limits count recent rows (per hour, per day), used or not.
 */
export async function purgeExpiredAccountTokens(db: Kysely<Database>): Promise<number> {
  const result = await db
    .deleteFrom('account_tokens')
    .where('expires_at', '<', sql<Date>`now() - interval '7 days'`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
