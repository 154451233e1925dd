import { type Kysely, sql, type Transaction } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { WriteBuffer } from '../storage/write-buffer.ts';
import type { SignInMethod } from './organization-input.ts';
import { isUpstream, signInWayOf } from './sign-in-methods.ts';

export type { SignInMethod };

type Db = Kysely<Database> | Transaction<Database>;

/** A completed sign-in, as the sign-in pipeline knows it (RFC 8176 amr, not yet a method). */
export interface CompletedSignIn {
  accountId: string;
  amr: readonly string[];
  organizationId?: string | null | undefined;
  clientId: string;
}

export interface SignInEventInput {
  userId: string;
  organizationId?: string | null;
  clientId: string;
  method: SignInMethod;
  at?: Date;
}

/** A member's last sign-in at the organization's portals, and every method used within retention. */
export interface LastSignIn {
  at: Date;
  methods: SignInMethod[];
}

interface Pending {
  user_id: string;
  organization_id: string | null;
  client_id: string;
  /** Undefined: a federated sign-in whose provider (Google or Microsoft) is looked up at the flush. */
  method: SignInMethod | undefined;
  occurred_at: Date;
}

/** The order methods are listed in. */
const METHOD_ORDER: readonly SignInMethod[] = ['password', 'passkey', 'google', 'microsoft'];

/**
 * The record of completed sign-ins per person, portal and organization (`sign_in_events`), which
 * the company admins' metrics and member list read.
 *
 * Like the audit log (src/audit/audit-log.ts), recording adds no round trip to the sign-in: events
 * wait in memory and are written as one multi-row insert every second, when a batch is full, and
 * at `close()`; a failed write keeps them for the next flush, up to `maxBuffered`. amr names no
 * upstream provider (`fed`), so the provider of a federated sign-in is read at the flush, for the
 * whole batch in one query: the account's most recently used linked identity, which federation
 * stamped before the sign-in went on.
 */
export class SignInEvents {
  private readonly writes: WriteBuffer<Pending>;
  private readonly now: () => number;

  constructor(
    private readonly options: {
      db: Kysely<Database>;
      logger: Logger;
      now?: (() => number) | undefined;
      /** Milliseconds between flushes; default 1000. 0: written at once (tests, the CLI). */
      flushIntervalMs?: number;
      maxBuffered?: number;
    },
  ) {
    this.now = options.now ?? Date.now;
    this.writes = new WriteBuffer({
      logger: options.logger,
      messages: {
        droppedEvent: 'sign_in_events.dropped',
        afterClose: 'sign-in event after close',
        full: 'sign-in events buffer full',
        notWritten: 'sign-in events not written yet',
      },
      write: async (batch) => {
        const rows = await this.withUpstreams(batch);
        if (rows.length) await options.db.insertInto('sign_in_events').values(rows).execute();
      },
      flushIntervalMs: options.flushIntervalMs,
      maxBuffered: options.maxBuffered,
    });
  }

  /** Records a sign-in; never throws, never waits. */
  record(event: SignInEventInput): void {
    this.push({
      user_id: event.userId,
      organization_id: event.organizationId ?? null,
      client_id: event.clientId,
      method: event.method,
      occurred_at: event.at ?? new Date(this.now()),
    });
  }

  /** What the sign-in pipeline calls once a sign-in completed (src/interactions/sign-in-pipeline.ts). */
  signedIn(login: CompletedSignIn): void {
    const method = methodOfAmr(login.amr);
    if (method === null) return;
    this.push({
      user_id: login.accountId,
      organization_id: login.organizationId ?? null,
      client_id: login.clientId,
      method,
      occurred_at: new Date(this.now()),
    });
  }

  /** Writes what is buffered; resolves once written (or kept after a failure, which is logged). */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  close(): Promise<void> {
    return this.writes.close();
  }

  /** Per member of the organization: last sign-in at its portals and the methods used within retention. */
  async lastSignIns(
    organizationId: string,
    userIds: string[],
    db: Db = this.options.db,
  ): Promise<Map<string, LastSignIn>> {
    const found = new Map<string, LastSignIn>();
    if (!userIds.length) return found;
    const rows = await db
      .selectFrom('sign_in_events')
      .select(['user_id', 'method', sql<Date>`max(occurred_at)`.as('at')])
      .where('organization_id', '=', organizationId)
      .where('user_id', 'in', [...new Set(userIds)])
      .groupBy(['user_id', 'method'])
      .execute();
    for (const row of rows) {
      const at = new Date(row.at);
      const method = row.method as SignInMethod;
      const seen = found.get(row.user_id);
      if (!seen) found.set(row.user_id, { at, methods: [method] });
      else {
        if (at > seen.at) seen.at = at;
        seen.methods.push(method);
      }
    }
    for (const seen of found.values()) seen.methods.sort((a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));
    return found;
  }

  /**
   * Deletes events before `cutoff`, with the running totals the metrics read of days before its own
   * and of people last seen before it (migration 0023); returns how many events.
   */
  async purgeOlderThan(cutoff: Date): Promise<number> {
    const { db } = this.options;
    const result = await db.deleteFrom('sign_in_events').where('occurred_at', '<', cutoff).executeTakeFirst();
    await db
      .deleteFrom('organization_sign_in_days')
      .where('day', '<', sql<Date>`(${cutoff}::timestamptz at time zone 'UTC')::date`)
      .execute();
    await db.deleteFrom('organization_member_sign_ins').where('last_at', '<', cutoff).execute();
    return Number(result.numDeletedRows);
  }

  /** The purge timer's: events older than `retentionDays` (SIGN_IN_EVENTS_RETENTION_DAYS). */
  purgeExpired(retentionDays: number): Promise<number> {
    return this.purgeOlderThan(new Date(this.now() - retentionDays * 86_400_000));
  }

  private push(row: Pending): void {
    this.writes.push(row);
  }

  /** Federated sign-ins get the provider of the account's latest upstream sign-in; one unknown is dropped. */
  private async withUpstreams(batch: Pending[]) {
    const unresolved = [...new Set(batch.filter((row) => !row.method).map((row) => row.user_id))];
    const latest = new Map<string, SignInMethod>();
    if (unresolved.length) {
      const linked = await this.options.db
        .selectFrom('federated_identities')
        .select(['user_id', 'provider'])
        .where('user_id', 'in', unresolved)
        .where('last_login_at', 'is not', null)
        .orderBy('last_login_at', 'desc')
        .execute();
      for (const row of linked) {
        if (!latest.has(row.user_id) && isUpstream(row.provider)) latest.set(row.user_id, row.provider);
      }
    }
    return batch.flatMap((row) => {
      const method = row.method ?? latest.get(row.user_id);
      return method ? [{ ...row, method }] : [];
    });
  }
}

/**
 * The first factor of a sign-in, from its amr: an upstream (`fed`, its provider found later:
 * undefined), else the password, else a passkey. null: none of these (nothing to record).
 */
export function methodOfAmr(amr: readonly string[]): SignInMethod | undefined | null {
  if (amr.includes('fed')) return undefined;
  const [method] = signInWayOf(amr, undefined).methods;
  return method ?? null;
}
