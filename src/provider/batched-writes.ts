import type { Middleware } from 'koa';
import { type Kysely, sql } from 'kysely';
import { RequestSlot } from '../http/request-scope.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../storage/database-unavailable.ts';
import { GroupedRowWrites } from '../storage/grouped-row-writes.ts';
import type { FoundRow, OidcModelRow } from '../storage/oidc-model-rows.ts';
import type { Database } from '../storage/schema.ts';

/** What one request leaves to write for one (model, id): its last word wins. */
export type PendingWrite =
  | { kind: 'upsert'; row: OidcModelRow; consumedAt?: Date }
  | { kind: 'destroy'; model: string; id: string }
  | { kind: 'consume'; model: string; id: string; at: Date };

/**
 * The oidc-provider model writes of one request, held until oidc-provider has answered and then
 * written in ONE statement (data-modifying CTEs: deletes, consumptions, upserts) before the answer
 * leaves. The resumption of an authorization (GET /auth/:uid: the interaction deleted, the session,
 * grant and code stored) and a code exchange (the code consumed, the access and refresh tokens
 * stored) each cost one round trip and one commit instead of three or four. The adapter reads its
 * own request's pending writes (`pending()`), so oidc-provider sees what it wrote. The response
 * (the code, the tokens) is sent only after the write commits; if it fails, the request fails
 * instead. Once the batch is written, work the request left running (a promise not awaited) writes
 * straight to the database again, so nothing is held back that no flush would write. A batch of
 * one row (a client-credentials or refresh request's access token) is group-committed with the
 * rows of the requests beside it (src/storage/grouped-row-writes.ts). The request also keeps the
 * rows it read ahead with a token, its grant and session (adapters/model-lookups.ts).
 */
export class BatchedWrites {
  readonly #requests = new RequestSlot<{
    writes: Map<string, PendingWrite>;
    readAhead: Map<string, FoundRow>;
    open: boolean;
  }>('batched writes');

  readonly #tokenRows: GroupedRowWrites;

  constructor(private readonly db: Kysely<Database>) {
    this.#tokenRows = new GroupedRowWrites(db);
  }

  /** The current request's pending writes, while it batches. */
  pending(): Map<string, PendingWrite> | undefined {
    const batch = this.#requests.get();
    return batch?.open ? batch.writes : undefined;
  }

  /**
   * The rows the current request read ahead with a token (its grant and session,
   * adapters/model-lookups.ts), while it batches: oidc-provider reads them right after the token.
   */
  readAhead(): Map<string, FoundRow> | undefined {
    const batch = this.#requests.get();
    return batch?.open ? batch.readAhead : undefined;
  }

  /** Wraps oidc-provider's routes (mounted right in front of it). */
  middleware(): Middleware {
    return async (ctx, next) => {
      const batch = { writes: new Map<string, PendingWrite>(), readAhead: new Map<string, FoundRow>(), open: true };
      await this.#requests.run(batch, async () => {
        try {
          await next();
        } finally {
          batch.open = false;
        }
        try {
          await this.flush(batch.writes);
        } catch (error) {
          // Nothing oidc-provider answered holds (its code or tokens were not stored): the request fails.
          if (!isDatabaseUnavailable(error)) throw error;
          ctx.status = 503;
          ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
          ctx.body = { error: 'temporarily_unavailable', error_description: 'the database is unreachable' };
        }
      });
    };
  }

  /** Writes `writes` in one statement (none when there is nothing to write). */
  async flush(writes: Map<string, PendingWrite>): Promise<void> {
    const all = [...writes.values()];
    writes.clear();
    const upserts = all.filter((w) => w.kind === 'upsert');
    const destroys = all.filter((w) => w.kind === 'destroy');
    const consumes = all.filter((w) => w.kind === 'consume');
    if (!all.length) return;
    const [only] = all;
    if (all.length === 1 && only?.kind === 'upsert' && !only.consumedAt) {
      return this.#tokenRows.write(only.row); // a token request's one write: with those of the requests beside it
    }
    const pairs = (list: Array<{ model: string; id: string }>) => sql.join(list.map((w) => sql`(${w.model}, ${w.id})`));
    const deleteRows = sql`delete from oidc_models where (model, id) in (${pairs(destroys)})`;
    // One consumption time per statement: the request's first (they are a few ms apart at most).
    const consumeRows = consumes.length
      ? sql`update oidc_models set consumed_at = ${consumes[0]!.at} where (model, id) in (${pairs(consumes)}) and consumed_at is null`
      : sql``;
    const ctes: Array<ReturnType<typeof sql>> = [];
    if (upserts.length && destroys.length) ctes.push(sql`d as (${deleteRows})`);
    if (consumes.length && (upserts.length || destroys.length)) ctes.push(sql`c as (${consumeRows})`);
    const withClause = ctes.length ? sql`with ${sql.join(ctes)} ` : sql``;
    if (upserts.length) {
      const values = sql.join(
        upserts.map(
          ({ row, consumedAt }) =>
            sql`(${row.model}, ${row.id}, ${row.payload}::jsonb, ${row.grant_id ?? null}, ${row.user_code ?? null}, ${row.uid ?? null}, ${row.account_id ?? null}, ${row.expires_at ?? null}::timestamptz, ${consumedAt ?? null}::timestamptz)`,
        ),
      );
      await sql`${withClause}insert into oidc_models (model, id, payload, grant_id, user_code, uid, account_id, expires_at, consumed_at)
        values ${values}
        on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
          user_code = excluded.user_code, uid = excluded.uid, account_id = excluded.account_id,
          expires_at = excluded.expires_at, consumed_at = coalesce(oidc_models.consumed_at, excluded.consumed_at)`.execute(
        this.db,
      );
    } else if (destroys.length) {
      await sql`${withClause}${deleteRows}`.execute(this.db);
    } else {
      await consumeRows.execute(this.db);
    }
  }
}
