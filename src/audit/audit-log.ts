import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { WriteBuffer } from '../storage/write-buffer.ts';
import { type AuditEventInput, type AuditTrail, withoutSecrets } from './audit-event.ts';

/** An event as read back. */
export interface AuditEvent {
  id: string;
  time: Date;
  type: string;
  actor: { kind: string; id: string | null };
  subjectUserId: string | null;
  organizationId: string | null;
  ip: string | null;
  userAgent: string | null;
  data: Record<string, unknown>;
}

export interface AuditQuery {
  type?: string;
  /** Any of these types (a user's sign-ins: sign_in.succeeded and sign_in.failed). */
  types?: string[];
  userId?: string;
  organizationId?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** 1 to 1000; default 100. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface AuditLogOptions {
  db: Kysely<Database>;
  logger: Logger;
  /** Milliseconds between flushes of the buffer; default 1000. 0: every event is written at once (the CLI). */
  flushIntervalMs?: number;
  /** Events held at most while the database does not answer; older ones are dropped beyond it. */
  maxBuffered?: number;
  now?: () => number;
  /** Sees each event as it is recorded (the sign-in metrics count them). */
  observe?: (event: AuditEventInput) => void;
}

type Row = Database['audit_events'];
type NewRow = { [K in keyof Row]: Row[K] extends { __insert__: infer I } ? I : Row[K] };

/**
 * The audit log: writer, reader and retention of `audit_events`.
 *
 * Writing adds no round trip to the request that records: `record` puts the event in an in-memory
 * buffer, written as one multi-row insert every second (or as soon as a batch is full) and at
 * `close()`. A failed write puts the events back for the next flush, up to `maxBuffered` (10,000),
 * beyond which the oldest are dropped with a warning. What a crash loses: the events of the last
 * second or so (those not yet flushed), and all held events while the database was unreachable.
 * That trade is deliberate: writing inside each step's transaction would tie the log to code
 * paths that have no transaction of their own (most sign-in steps do single statements).
 */
export class AuditLog implements AuditTrail {
  private readonly writes: WriteBuffer<NewRow>;
  private readonly now: () => number;

  constructor(private readonly options: AuditLogOptions) {
    this.now = options.now ?? Date.now;
    this.writes = new WriteBuffer({
      logger: options.logger,
      messages: {
        droppedEvent: 'audit.dropped',
        afterClose: 'audit event after close',
        full: 'audit buffer full: oldest events dropped',
        notWritten: 'audit events not written yet',
      },
      write: async (batch) => {
        await options.db.insertInto('audit_events').values(batch).execute();
      },
      flushIntervalMs: options.flushIntervalMs,
      maxBuffered: options.maxBuffered,
    });
  }

  record(event: AuditEventInput): void {
    if (this.writes.push(toRow(event, this.now()), { type: event.type })) this.options.observe?.(event);
  }

  /** Writes what is buffered; resolves once written (or put back after a failure, which is logged). */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  /** Stops the timer and writes what is left. */
  close(): Promise<void> {
    return this.writes.close();
  }

  /** Events newest first, filtered; `nextCursor` pages on. */
  async query(filter: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 100), 1), 1000);
    let query = this.options.db.selectFrom('audit_events').selectAll();
    if (filter.type) query = query.where('type', '=', filter.type);
    if (filter.types?.length) query = query.where('type', 'in', filter.types);
    if (filter.userId) query = query.where('subject_user_id', '=', filter.userId);
    if (filter.organizationId) query = query.where('organization_id', '=', filter.organizationId);
    if (filter.from) query = query.where('occurred_at', '>=', filter.from);
    if (filter.to) query = query.where('occurred_at', '<', filter.to);
    if (filter.cursor) {
      const { at, id } = decodeCursor(filter.cursor);
      query = query.where(sql<boolean>`(occurred_at, id) < (${at}, ${id})`);
    }
    const rows = await query
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const events = rows.slice(0, limit).map(fromRow);
    const last = events.at(-1);
    return rows.length > limit && last ? { events, nextCursor: encodeCursor(last.time, last.id) } : { events };
  }

  /** Deletes events older than `retentionDays` (AUDIT_RETENTION_DAYS); the purge timer calls it. */
  async purgeExpired(retentionDays: number): Promise<number> {
    const before = new Date(this.now() - retentionDays * 86_400_000);
    const result = await this.options.db
      .deleteFrom('audit_events')
      .where('occurred_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** Thrown for a cursor that is not one of ours. */
export class AuditCursorError extends Error {}

function toRow(event: AuditEventInput, now: number): NewRow {
  return {
    id: randomUUID(),
    occurred_at: event.at ?? new Date(now),
    type: event.type,
    actor_kind: event.actor.kind,
    actor_id: event.actor.id ?? null,
    subject_user_id: event.subjectUserId ?? null,
    organization_id: event.organizationId ?? null,
    ip: event.ip ?? null,
    user_agent: event.userAgent ?? null,
    data: JSON.stringify(withoutSecrets(event.data ?? {})),
  };
}

function fromRow(row: { [K in keyof Row]: Row[K] extends { __select__: infer S } ? S : Row[K] }): AuditEvent {
  return {
    id: row.id,
    time: new Date(row.occurred_at),
    type: row.type,
    actor: { kind: row.actor_kind, id: row.actor_id },
    subjectUserId: row.subject_user_id,
    organizationId: row.organization_id,
    ip: row.ip,
    userAgent: row.user_agent,
    data: (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Record<string, unknown>,
  };
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  if (!id || Number.isNaN(at.getTime())) throw new AuditCursorError('not an audit cursor');
  return { at, id };
}
