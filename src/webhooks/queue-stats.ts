import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';

/** The queue at a glance, for metrics (a gauge each): see webhookQueueStats. */
export interface WebhookQueueStats {
  /** Waiting for their first attempt or a retry, or being POSTed: the queue's depth. */
  queued: number;
  /** Of those, the ones that failed at least once. */
  retrying: number;
  /** Given up after every retry (kept until purged). */
  failed: number;
  /** Seconds since the oldest queued delivery was made; 0 when none is queued. */
  oldestQueuedSeconds: number;
}

/** One aggregate query over webhook_deliveries; cheap enough to run on every metrics scrape. */
export async function webhookQueueStats(
  db: Kysely<Database>,
  now: () => number = Date.now,
): Promise<WebhookQueueStats> {
  const { rows } = await sql<{ queued: string; retrying: string; failed: string; oldest: Date | string | null }>`
    select count(*) filter (where status in ('pending', 'sending')) as queued,
           count(*) filter (where status in ('pending', 'sending') and attempts > 0) as retrying,
           count(*) filter (where status = 'failed') as failed,
           min(created_at) filter (where status in ('pending', 'sending')) as oldest
      from webhook_deliveries`.execute(db);
  const row = rows[0];
  const oldest = row?.oldest ? new Date(row.oldest).getTime() : undefined;
  return {
    queued: Number(row?.queued ?? 0),
    retrying: Number(row?.retrying ?? 0),
    failed: Number(row?.failed ?? 0),
    oldestQueuedSeconds: oldest === undefined ? 0 : Math.max(0, Math.round((now() - oldest) / 1000)),
  };
}
