import type { Kysely } from 'kysely';
import { notifyChange } from '../storage/change-notices.ts';
import type { Database } from '../storage/schema.ts';

/**
 * Call after writing a client's row (added, metadata changed, removed), in the same transaction if
 * there is one: every node (every worker) drops the client from its cache when the write commits,
 * so a removed client is refused everywhere at once. Whatever writes `clients` calls this.
 */
export function notifyClientChanged(db: Kysely<Database>, clientId: string): Promise<void> {
  return notifyChange(db, { client: clientId });
}
