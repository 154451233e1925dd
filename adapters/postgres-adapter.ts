import { type Kysely, sql } from 'kysely';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database } from '../src/storage/schema.ts';

export interface AdapterOptions {
  /**
   * Seconds during which a rotated refresh token still works. Portals that refresh from two
   * tabs at once would otherwise trip reuse detection, which revokes the whole grant.
   */
  refreshTokenReuseGraceSeconds: number;
  /**
   * Seconds a registered client's metadata is kept in memory. Every token request looks its
   * client up; a short cache spares that query, and a removed client stops working within it.
   */
  clientCacheSeconds: number;
  /** The client cache's clock, in ms; tests pass one they move instead of waiting. */
  now?: () => number;
}

/**
 * oidc-provider storage on PostgreSQL (or PGlite): every model in one table keyed by
 * (model, id), payload as jsonb; grantId, uid and userCode copied out into indexed columns.
 * Registered clients live in their own table, written by the operator CLI.
 */
export function createAdapterClass(db: Kysely<Database>, options: AdapterOptions) {
  const clientCache = new Map<string, { metadata: AdapterPayload | undefined; until: number }>();
  const now = options.now ?? Date.now;

  async function findClient(id: string): Promise<AdapterPayload | undefined> {
    const cached = clientCache.get(id);
    if (cached && cached.until > now()) return cached.metadata;
    const client = await db.selectFrom('clients').select('metadata').where('client_id', '=', id).executeTakeFirst();
    const metadata = client?.metadata as AdapterPayload | undefined;
    if (options.clientCacheSeconds > 0) {
      if (clientCache.size > 10_000) clientCache.clear(); // unknown ids sent at will must not grow it without end
      clientCache.set(id, { metadata, until: now() + options.clientCacheSeconds * 1000 });
    }
    return metadata;
  }

  return class PostgresAdapter implements Adapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are registered with `umbral clients add`');
      const row = {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        account_id: payload.accountId ?? null,
        expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await db
        .insertInto('oidc_models')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet({
            payload: row.payload,
            grant_id: row.grant_id,
            user_code: row.user_code,
            uid: row.uid,
            account_id: row.account_id,
            expires_at: row.expires_at,
          }),
        )
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(id);
      const row = await db
        .selectFrom('oidc_models')
        .select(['payload', 'consumed_at'])
        .where('model', '=', this.model)
        .where('id', '=', id)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
        .executeTakeFirst();
      if (!row) return undefined;
      return this.withConsumption(row.payload as AdapterPayload, row.consumed_at);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findBy('uid', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy('user_code', userCode);
    }

    async consume(id: string): Promise<void> {
      await db
        .updateTable('oidc_models')
        .set({ consumed_at: new Date() })
        .where('model', '=', this.model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .execute();
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('model', '=', this.model).where('id', '=', id).execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('grant_id', '=', grantId).execute();
    }

    private async findBy(column: 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      const row = await db
        .selectFrom('oidc_models')
        .select(['payload', 'consumed_at'])
        .where('model', '=', this.model)
        .where(column, '=', value)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
        .executeTakeFirst();
      return row ? this.withConsumption(row.payload as AdapterPayload, row.consumed_at) : undefined;
    }

    private withConsumption(payload: AdapterPayload, consumedAt: Date | null): AdapterPayload {
      if (!consumedAt) return payload;
      const ageSeconds = (Date.now() - consumedAt.getTime()) / 1000;
      if (this.model === 'RefreshToken' && ageSeconds < options.refreshTokenReuseGraceSeconds) return payload;
      return { ...payload, consumed: Math.floor(consumedAt.getTime() / 1000) };
    }
  };
}

/** Deletes expired rows; oidc-provider ignores them already, this keeps the table small. */
export async function purgeExpired(db: Kysely<Database>): Promise<number> {
  const result = await db.deleteFrom('oidc_models').where('expires_at', '<', sql<Date>`now()`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
