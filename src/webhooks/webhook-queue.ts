import { type Kysely, sql } from 'kysely';
import { withoutSecrets } from '../audit/audit-event.ts';
import type { Database } from '../storage/schema.ts';
import type { WebhookEventData, WebhookEventType, WebhookExecutor } from './webhook-events.ts';

/** A claimed row stays 'sending' this long; past it (the process died mid-POST) it is due again. */
const CLAIM_LEASE_MS = 60_000;
const CLAIM_BATCH = 10;
const MAX_ERROR_LENGTH = 300;

/** A delivery the worker took, with what it needs to POST it. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  url: string;
  secretSealed: string;
  payload: string;
  /** This attempt's number, from 1. */
  attempt: number;
}

/** One POST as recorded: a status code, or an error when no answer came. */
export interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** The Standard Webhooks body: `{ type, timestamp, data }`. */
export function webhookPayload(type: WebhookEventType, data: WebhookEventData, at: Date): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data: withoutSecrets(data) });
}

/** The webhook_deliveries and webhook_attempts tables: every read and write of the queue. */
export class WebhookQueue {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  /**
   * One insert that selects the enabled endpoints subscribed to `type`: a delivery each, due now,
   * with an id of its own (its `webhook-id`). Returns how many endpoints it was queued for.
   */
  async enqueue(type: WebhookEventType, data: WebhookEventData, within: WebhookExecutor = this.db): Promise<number> {
    const at = new Date(this.now());
    const payload = webhookPayload(type, data, at);
    const result = await sql`
      insert into webhook_deliveries (id, endpoint_id, event_type, payload, next_attempt_at, created_at)
      select 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, ${type}, ${payload}, ${at}, ${at}
        from webhook_endpoints e
       where e.enabled and e.event_types @> ${JSON.stringify([type])}::jsonb`.execute(within);
    return Number(result.numAffectedRows ?? 0);
  }

  /**
   * Takes up to a batch of due deliveries of enabled endpoints. SKIP LOCKED lets every process
   * share the queue without POSTing a delivery twice at once; counting the attempt here means a
   * crash mid-POST still counts as one.
   */
  async claimDue(): Promise<ClaimedDelivery[]> {
    const now = new Date(this.now());
    const lease = new Date(this.now() + CLAIM_LEASE_MS);
    const { rows } = await sql<{
      id: string;
      endpoint_id: string;
      payload: string;
      attempts: number;
      url: string;
      secret_sealed: string;
    }>`
      with claimed as (
        update webhook_deliveries
           set status = 'sending', attempts = attempts + 1, next_attempt_at = ${lease}
         where id in (
           select d.id from webhook_deliveries d
             join webhook_endpoints e on e.id = d.endpoint_id
            where d.status in ('pending', 'sending') and d.next_attempt_at <= ${now} and e.enabled
            order by d.next_attempt_at
            limit ${CLAIM_BATCH}
            for update of d skip locked)
        returning id, endpoint_id, payload, attempts)
      select c.id, c.endpoint_id, c.payload, c.attempts, e.url, e.secret_sealed
        from claimed c join webhook_endpoints e on e.id = c.endpoint_id`.execute(this.db);
    return rows.map((row) => ({
      id: row.id,
      endpointId: row.endpoint_id,
      url: row.url,
      secretSealed: row.secret_sealed,
      payload: row.payload,
      attempt: Number(row.attempts),
    }));
  }

  /**
   * Records the attempt (made at `at`) and what comes next: delivered, another try at a date, or given up. The
   * delivery's row is updated first: when its endpoint was removed during the POST there is none
   * left, and nothing is recorded.
   */
  async settle(
    delivery: ClaimedDelivery,
    outcome: AttemptOutcome,
    next: 'delivered' | Date | 'failed',
    at: Date,
  ): Promise<void> {
    const error = outcome.error === null ? null : truncate(outcome.error);
    const lastError = error ?? (outcome.statusCode === null ? null : `HTTP ${outcome.statusCode}`);
    await this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('webhook_deliveries')
        .set(
          next instanceof Date
            ? { status: 'pending', next_attempt_at: next, last_error: lastError }
            : { status: next, finished_at: at, last_error: next === 'delivered' ? null : lastError },
        )
        .where('id', '=', delivery.id)
        .executeTakeFirst();
      if (!Number(updated.numUpdatedRows)) return;
      await trx
        .insertInto('webhook_attempts')
        .values({
          delivery_id: delivery.id,
          attempt: delivery.attempt,
          attempted_at: at,
          status_code: outcome.statusCode,
          error,
          duration_ms: Math.round(outcome.durationMs),
        })
        .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
        .execute();
    });
  }

  /** Deletes delivered and failed deliveries (with their attempts) finished more than `days` ago. */
  async purgeFinished(days: number): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_deliveries')
      .where('status', 'in', ['delivered', 'failed'])
      .where('finished_at', '<', new Date(this.now() - days * 86_400_000))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function truncate(message: string): string {
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
}
