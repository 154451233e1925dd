import type { Kysely } from 'kysely';
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
