import { type Kysely, sql } from 'kysely';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { ClientCache } from '../src/clients/client-cache.ts';
import { notifyClientChanged } from '../src/clients/client-changes.ts';
import { hashClientSecret, isHashedClientSecret } from '../src/clients/client-secret.ts';
import type { PendingWrite } from '../src/provider/batched-writes.ts';
import {
  type FoundRow,
  modelRowKey,
  type OidcModelRow,
  type ReadAheadCompanion,
  writeModelRow,
} from '../src/storage/oidc-model-rows.ts';
import type { Database } from '../src/storage/schema.ts';
import { hashOpaqueToken } from '../src/users/account-tokens.ts';
import { modelRowReader } from './model-lookups.ts';

export { type OidcModelRow, writeModelRow };

/**
 * A token request under way (src/provider/refresh-rotations.ts). When oidc-provider rotates a
 * refresh token, the adapter writes nothing: it notes the consumed token and keeps the
 * successor's rows, which the request commits only if it is the first to consume that token.
 */
export interface TokenRequestScope {
  current(): RotationAttempt | undefined;
}

export interface RotationAttempt {
  /** The refresh token this request rotates; set when oidc-provider consumes it. */
  consumedId?: string;
  /** What the rotation writes after consuming (the successor refresh token, the access token). */
  rows: OidcModelRow[];
}

export interface AdapterOptions {
  /**
   * Seconds after a refresh token's rotation during which presenting it again is answered with
   * the same successor instead of revoking the grant (two tabs refreshing at once).
   */
  refreshTokenReuseGraceSeconds: number;
  /**
   * Seconds a registered client's metadata is kept in memory. Every token request looks its
   * client up; a short cache spares that query, and a removed client stops working within it.
   */
  clientCacheSeconds: number;
  /** The cache to keep clients in, shared with whatever drops changed ones (the server's change notices). */
  clientCache?: ClientCache;
  /** Token requests in progress; without it, every write goes straight to the database. */
  tokenRequests?: TokenRequestScope;
  /** Milliseconds since the epoch; the reuse grace and the client cache read it (tests move it). */
  now?: () => number;
  /** The writes a request holds back to write at once (src/provider/batched-writes.ts); none: each at once. */
  batchedWrites?: {
    pending(): Map<string, PendingWrite> | undefined;
    /** Rows the request read ahead with a token (its grant and session; adapters/model-lookups.ts). */
    readAhead(): Map<string, FoundRow> | undefined;
  };
  /** Other tables' rows read with each token, for the request to take (needs `batchedWrites`). */
  readAheadCompanions?: readonly ReadAheadCompanion[];
}

/**
 * Long-lived bearer tokens of dynamic registration: kept under the SHA-256 of their value and
 * without it in the payload, so a database dump holds none that works. The value is the id
 * oidc-provider looks them up by, so find puts it back.
 */
const HASHED_MODELS = new Set(['InitialAccessToken', 'RegistrationAccessToken']);

function withoutJti(payload: AdapterPayload): AdapterPayload {
  const { jti: _value, ...rest } = payload;
  return rest;
}

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

/**
 * Removes a registered client and every token, code and grant issued to it, in one transaction
 * whose commit tells every node to drop the client from its cache (src/storage/change-notices.ts).
 */
export async function deleteClient(db: Kysely<Database>, clientId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) return false;
    await trx
      .deleteFrom('oidc_models')
      .where('model', 'in', CLIENT_BOUND_MODELS)
      .where((eb) => eb(eb.ref('payload', '->>').key('clientId' as never), '=', clientId))
      .execute();
    await notifyClientChanged(trx, clientId);
    return true;
  });
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
  const now = options.now ?? Date.now;
  const clientCache = options.clientCache ?? new ClientCache(options.clientCacheSeconds, now);
  const rows = modelRowReader(db, () => options.batchedWrites?.readAhead(), options.readAheadCompanions);

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
    clientCache.invalidate(id);
    await notifyClientChanged(db, id);
  }

  async function findClient(id: string): Promise<AdapterPayload | undefined> {
    const cached = clientCache.get(id);
    if (cached !== 'miss') return cached;
    const client = await db.selectFrom('clients').select('metadata').where('client_id', '=', id).executeTakeFirst();
    const metadata = client?.metadata as AdapterPayload | undefined;
    clientCache.set(id, metadata);
    return metadata;
  }

  return class PostgresAdapter implements Adapter {
    constructor(readonly model: string) {}

    /** Drops a client from this process's cache; `notifyClientChanged` (src/clients/client-changes.ts) drops it on every node. */
    forgetClient(id: string): void {
      clientCache.invalidate(id);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') return upsertClient(id, payload);
      const row: OidcModelRow = {
        model: this.model,
        id: storedTokenId(this.model, id),
        // The hashed models' value (jti) stays out of the row; other payloads are written as they are.
        payload: JSON.stringify(HASHED_MODELS.has(this.model) ? withoutJti(payload) : payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        account_id: payload.accountId ?? null,
        expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      const attempt = options.tokenRequests?.current();
      if (attempt?.consumedId && (this.model === 'RefreshToken' || this.model === 'AccessToken')) {
        attempt.rows.push(row); // the rotation's successor: written only if the rotation wins
        return;
      }
      const batch = options.batchedWrites?.pending();
      if (batch) {
        const key = modelRowKey(this.model, row.id);
        const before = batch.get(key);
        const consumedAt =
          before?.kind === 'consume' ? before.at : before?.kind === 'upsert' ? before.consumedAt : undefined;
        batch.set(key, { kind: 'upsert', row, consumedAt });
        return;
      }
      await writeModelRow(db, row);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(id);
      const held = options.batchedWrites?.pending()?.get(modelRowKey(this.model, storedTokenId(this.model, id)));
      if (held?.kind === 'destroy') return undefined;
      if (held?.kind === 'upsert') {
        const payload = JSON.parse(String(held.row.payload)) as AdapterPayload;
        const withValue = HASHED_MODELS.has(this.model) ? { ...payload, jti: id } : payload;
        return this.withConsumption(withValue, held.consumedAt ?? null);
      }
      const row = await rows.byId(this.model, storedTokenId(this.model, id));
      if (!row) return undefined;
      const payload = row.payload as AdapterPayload;
      const consumedAt = held?.kind === 'consume' ? (row.consumed_at ?? held.at) : row.consumed_at;
      return this.withConsumption(HASHED_MODELS.has(this.model) ? { ...payload, jti: id } : payload, consumedAt);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findBy('uid', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy('user_code', userCode);
    }

    async consume(id: string): Promise<void> {
      const attempt = options.tokenRequests?.current();
      if (attempt && this.model === 'RefreshToken') {
        attempt.consumedId = id; // claimed atomically when the request commits
        return;
      }
      const batch = options.batchedWrites?.pending();
      if (batch) {
        const key = modelRowKey(this.model, storedTokenId(this.model, id));
        const before = batch.get(key);
        const at = new Date(now());
        if (before?.kind === 'upsert') before.consumedAt ??= at;
        else if (before?.kind !== 'destroy')
          batch.set(key, { kind: 'consume', model: this.model, id: storedTokenId(this.model, id), at });
        return;
      }
      await db
        .updateTable('oidc_models')
        .set({ consumed_at: new Date(now()) })
        .where('model', '=', this.model)
        .where('id', '=', storedTokenId(this.model, id))
        .where('consumed_at', 'is', null)
        .execute();
    }

    async destroy(id: string): Promise<void> {
      if (this.model === 'Client') {
        // RFC 7592 deletion: the client's tokens and grants go with it, as with `umbral clients remove`.
        await deleteClient(db, id);
        clientCache.invalidate(id);
        return;
      }
      const batch = options.batchedWrites?.pending();
      if (batch) {
        const stored = storedTokenId(this.model, id);
        batch.set(modelRowKey(this.model, stored), { kind: 'destroy', model: this.model, id: stored });
        return;
      }
      await db
        .deleteFrom('oidc_models')
        .where('model', '=', this.model)
        .where('id', '=', storedTokenId(this.model, id))
        .execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const batch = options.batchedWrites?.pending();
      for (const [key, write] of batch ?? []) {
        if (write.kind === 'upsert' && write.row.grant_id === grantId) batch!.delete(key);
      }
      await db.deleteFrom('oidc_models').where('grant_id', '=', grantId).execute();
    }

    private async findBy(column: 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      const batch = options.batchedWrites?.pending();
      for (const write of batch?.values() ?? []) {
        if (write.kind === 'upsert' && write.row.model === this.model && write.row[column] === value) {
          return this.withConsumption(
            JSON.parse(String(write.row.payload)) as AdapterPayload,
            write.consumedAt ?? null,
          );
        }
      }
      const row = await rows.by(column, this.model, value);
      if (!row) return undefined;
      const held = batch?.get(modelRowKey(this.model, row.id));
      if (held?.kind === 'destroy') return undefined;
      const consumedAt = held?.kind === 'consume' ? (row.consumed_at ?? held.at) : row.consumed_at;
      return this.withConsumption(row.payload as AdapterPayload, consumedAt);
    }

    private withConsumption(payload: AdapterPayload, consumedAt: Date | null): AdapterPayload {
      if (!consumedAt) return payload;
      // Within the grace, a token request may present a rotated refresh token again: oidc-provider
      // sees it unused and rotates it, and the request's commit finds the rotation already done and
      // answers with its response (src/provider/refresh-rotations.ts). Anywhere else it is spent.
      const withinGrace = now() - consumedAt.getTime() < options.refreshTokenReuseGraceSeconds * 1000;
      if (this.model === 'RefreshToken' && withinGrace && options.tokenRequests?.current()) return payload;
      return { ...payload, consumed: Math.floor(consumedAt.getTime() / 1000) };
    }
  };
}

/** Deletes expired rows; oidc-provider ignores them already, this keeps the table small. */
export async function purgeExpired(db: Kysely<Database>): Promise<number> {
  const result = await db.deleteFrom('oidc_models').where('expires_at', '<', sql<Date>`now()`).executeTakeFirst();
  return Number(result.numDeletedRows);
}
