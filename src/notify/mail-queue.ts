import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database, MailQueueRow } from '../storage/schema.ts';
import type { RenderedEmail } from './email-renderer.ts';
import type { OutgoingEmail } from './mailer.ts';

/** A claimed row stays 'sending' this long; past it another worker (or a restart) may take it again. */
const CLAIM_LEASE_SECONDS = 300;
const CLAIM_BATCH = 10;
/** Sent and failed rows (with the dev outbox's rendered copies, which hold secret links) live a day. */
const KEEP_FINISHED_HOURS = 24;
const MAX_ERROR_LENGTH = 500;

/** The mail_queue table: every read and write the mailer and the dev outbox need. */
export class MailQueue {
  constructor(private readonly db: Kysely<Database>) {}

  /** INSERT only: delivery happens later in the worker. */
  async add(email: OutgoingEmail): Promise<string> {
    const id = randomUUID();
    const data = Object.fromEntries(Object.entries(email.data).filter(([, value]) => value !== undefined));
    await this.db
      .insertInto('mail_queue')
      .values({ id, to_address: email.to, template: email.template, locale: email.locale, data: JSON.stringify(data) })
      .execute();
    return id;
  }

  /**
   * Takes up to a batch of due rows for this worker. SKIP LOCKED lets several processes share one
   * PostgreSQL queue without sending a message twice; a 'sending' row whose lease ran out (the process
   * died mid-send) is due again. Counting the attempt here means a crash still counts as one.
   */
  async claimDue(): Promise<MailQueueRow[]> {
    const result = await sql<MailQueueRow>`
      update mail_queue
         set status = 'sending', attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ${CLAIM_LEASE_SECONDS})
       where id in (
         select id from mail_queue
          where status in ('pending', 'sending') and next_attempt_at <= now()
          order by created_at
          limit ${CLAIM_BATCH}
          for update skip locked)
      returning *`.execute(this.db);
    return result.rows;
  }

  /** Delivered: the template values (secret links) are dropped; only the dev outbox keeps a rendered copy. */
  async markSent(id: string, copy: RenderedEmail | undefined): Promise<void> {
    await this.db
      .updateTable('mail_queue')
      .set({
        status: 'sent',
        sent_at: sql<Date>`now()`,
        last_error: null,
        data: '{}',
        subject: copy?.subject ?? null,
        text_body: copy?.text ?? null,
        html_body: copy?.html ?? null,
      })
      .where('id', '=', id)
      .execute();
  }

  async markRetry(id: string, error: string, delayMs: number): Promise<void> {
    await this.db
      .updateTable('mail_queue')
      .set({
        status: 'pending',
        last_error: truncate(error),
        next_attempt_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Given up: the error stays visible (dev outbox, logs); the template values are dropped. */
  async markFailed(id: string, error: string): Promise<void> {
    await this.db
      .updateTable('mail_queue')
      .set({ status: 'failed', last_error: truncate(error), data: '{}' })
      .where('id', '=', id)
      .execute();
  }

  /** Gives back rows claimed but not attempted (the worker is stopping): not counted as attempts. */
  async release(ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.db
      .updateTable('mail_queue')
      .set({ status: 'pending', attempts: sql<number>`attempts - 1`, next_attempt_at: sql<Date>`now()` })
      .where('id', 'in', ids)
      .execute();
  }

  /** Rows not yet sent or given up (for drain()). */
  async unfinishedCount(): Promise<number> {
    const row = await this.db
      .selectFrom('mail_queue')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', 'in', ['pending', 'sending'])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async purgeFinished(): Promise<number> {
    const result = await this.db
      .deleteFrom('mail_queue')
      .where('status', 'in', ['sent', 'failed'])
      .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${KEEP_FINISHED_HOURS})`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Newest first, for the dev outbox list. */
  async recent(limit = 100): Promise<MailQueueRow[]> {
    return this.db
      .selectFrom('mail_queue')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async find(id: string): Promise<MailQueueRow | undefined> {
    return this.db.selectFrom('mail_queue').selectAll().where('id', '=', id).executeTakeFirst();
  }
}

function truncate(message: string): string {
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
}
