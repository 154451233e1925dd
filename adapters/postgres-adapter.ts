import { type Kysely, sql } from 'kysely';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { hashClientSecret, isHashedClientSecret } from '../src/clients/client-secret.ts';
import type { Database } from '../src/storage/schema.ts';
import { hashOpaqueToken } from '../src/users/account-tokens.ts';

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
}

/**
 * Long-lived bearer tokens of dynamic registration: kept under the SHA-256 of their value and
 * without it in the payload, so a database dump holds none that works. The value is the id
 * oidc-provider looks them up by, so find puts it back.
 */
const HASHED_MODELS = new Set(['InitialAccessToken', 'RegistrationAccessToken']);

/** The id a token of `model` is stored under; for the hashed models also what logs may name it by. */
export function storedTokenId(model: string, id: string): string {
  return HASHED_MODELS.has(model) ? hashOpaqueToken(id) : id;
}

/** Models bound to one client, removed with it. */
const CLIENT_BOUND_MODELS = [
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'ClientCredentials',
  'Grant',
  'RegistrationAccessToken',
];

/** Removes a registered client and every token, code and grant issued to it. */
export async function deleteClient(db: Kysely<Database>, clientId: string): Promise<boolean> {
  const result = await db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) return false;
  await db
    .deleteFrom('oidc_models')
    .where('model', 'in', CLIENT_BOUND_MODELS)
    .where((eb) => eb(eb.ref('payload', '->>').key('clientId' as never), '=', clientId))
    .execute();
  return true;
}

/**
 * Deletes an unexpired initial access token, in one statement: true for exactly one of any
 * registrations racing with the same token, which is what makes the token single-use.
 */
export async function takeInitialAccessToken(db: Kysely<Database>, value: string): Promise<boolean> {
  const taken = await db
    .deleteFrom('oidc_models')
    .where('model', '=', 'InitialAccessToken')
    .where('id', '=', storedTokenId('InitialAccessToken', value))
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
    .returning('id')
    .executeTakeFirst();
  return taken !== undefined;
}

/**
 * oidc-provider storage on PostgreSQL (or PGlite): every model in one table keyed by
 * (model, id), payload as jsonb; grantId, uid and userCode copied out into indexed columns.
 * Registered clients live in their own table, written by the operator CLI and by dynamic
 * registration; their secrets are stored hashed either way.
 */
export function createAdapterClass(db: Kysely<Database>, options: AdapterOptions) {
  const clientCache = new Map<string, { metadata: AdapterPayload | undefined; until: number }>();

  /** Dynamic registration writes here; the secret in clear is in its response only. */
  async function upsertClient(id: string, payload: AdapterPayload): Promise<void> {
    const secret = payload['client_secret'];
    const metadata = JSON.stringify({
      ...payload,
      ...(typeof secret === 'string' && !isHashedClientSecret(secret)
        ? { client_secret: hashClientSecret(secret) }
        : {}),
    });
    await db
      .insertInto('clients')
      .values({ client_id: id, metadata })
      .onConflict((oc) => oc.column('client_id').doUpdateSet({ metadata, updated_at: new Date() }))
      .execute();
    clientCache.delete(id);
  }

  async function findClient(id: string): Promise<AdapterPayload | undefined> {
    const cached = clientCache.get(id);
    if (cached && cached.until > Date.now()) return cached.metadata;
    const client = await db.selectFrom('clients').select('metadata').where('client_id', '=', id).executeTakeFirst();
    const metadata = client?.metadata as AdapterPayload | undefined;
    if (options.clientCacheSeconds > 0) {
      if (clientCache.size > 10_000) clientCache.clear(); // unknown ids sent at will must not grow it without end
      clientCache.set(id, { metadata, until: Date.now() + options.clientCacheSeconds * 1000 });
    }
    return metadata;
  }

  return class PostgresAdapter implements Adapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') return upsertClient(id, payload);
      const hashed = HASHED_MODELS.has(this.model);
      const { jti: _value, ...withoutValue } = payload;
      const row = {
        model: this.model,
        id: storedTokenId(this.model, id),
        payload: JSON.stringify(hashed ? withoutValue : payload),
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
        .where('id', '=', storedTokenId(this.model, id))
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
        .executeTakeFirst();
      if (!row) return undefined;
      const payload = row.payload as AdapterPayload;
      return this.withConsumption(HASHED_MODELS.has(this.model) ? { ...payload, jti: id } : payload, row.consumed_at);
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
        .where('id', '=', storedTokenId(this.model, id))
        .where('consumed_at', 'is', null)
        .execute();
    }

    async destroy(id: string): Promise<void> {
      if (this.model === 'Client') {
        // RFC 7592 deletion: the client's tokens and grants go with it, as with `umbral clients remove`.
        await deleteClient(db, id);
        clientCache.delete(id);
        return;
      }
      await db
        .deleteFrom('oidc_models')
        .where('model', '=', this.model)
        .where('id', '=', storedTokenId(this.model, id))
        .execute();
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
