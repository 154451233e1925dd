import { type Kysely, type Selectable, sql } from 'kysely';
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

export interface DeliveryQuery {
  /** 1 to 500; default 50. */
  limit?: number | undefined;
  /** The `next` of the previous page. */
  before?: { createdAt: string; id: string } | undefined;
  status?: Delivery['status'] | undefined;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  /** Absent on the last page. */
  next?: { createdAt: string; id: string };
}

/** An endpoint's deliveries, newest first, each with its attempts. */
export async function deliveriesOf(
  db: Kysely<Database>,
  endpointId: string,
  query: DeliveryQuery = {},
): Promise<DeliveryPage> {
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), 500);
  let select = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (query.status) select = select.where('status', '=', query.status);
  if (query.before) {
    select = select.where(sql<boolean>`(created_at, id) < (${new Date(query.before.createdAt)}, ${query.before.id})`);
  }
  const found = await select
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const rows = found.slice(0, limit);
  const deliveries = await withAttempts(db, rows);
  const last = deliveries.at(-1);
  return found.length > limit && last
    ? { deliveries, next: { createdAt: last.createdAt.toISOString(), id: last.id } }
    : { deliveries };
}

type DeliveryRow = Selectable<Database['webhook_deliveries']>;

async function withAttempts(db: Kysely<Database>, rows: DeliveryRow[]): Promise<Delivery[]> {
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
