import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';

export interface DeliveryAttempt {
  attempt: number;
  at: Date;
  /** The receiver's status code, or null when none came (refused, timed out, private address…). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** One event to one endpoint, with every attempt so far: what an operator reads. */
export interface Delivery {
  /** The `webhook-id` its attempts send. */
  id: string;
  eventType: string;
  status: 'pending' | 'sending' | 'delivered' | 'failed';
  createdAt: Date;
  /** When the next attempt is due; null once delivered or given up. */
  nextAttemptAt: Date | null;
  finishedAt: Date | null;
  lastError: string | null;
  attempts: DeliveryAttempt[];
}

/** An endpoint's deliveries, newest first (at most `limit`, default 50, up to 500), each with its attempts. */
export async function deliveriesOf(db: Kysely<Database>, endpointId: string, limit = 50): Promise<Delivery[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(Math.trunc(limit), 1), 500))
    .execute();
  if (!rows.length) return [];
  const attempts = await db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where(
      'delivery_id',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('attempt')
    .execute();
  return rows.map((row) => {
    const finished = row.status === 'delivered' || row.status === 'failed';
    return {
      id: row.id,
      eventType: row.event_type,
      status: row.status as Delivery['status'],
      createdAt: new Date(row.created_at),
      nextAttemptAt: finished ? null : new Date(row.next_attempt_at),
      finishedAt: row.finished_at ? new Date(row.finished_at) : null,
      lastError: row.last_error,
      attempts: attempts
        .filter((a) => a.delivery_id === row.id)
        .map((a) => ({
          attempt: a.attempt,
          at: new Date(a.attempted_at),
          statusCode: a.status_code,
          error: a.error,
          durationMs: a.duration_ms,
        })),
    };
  });
}

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
