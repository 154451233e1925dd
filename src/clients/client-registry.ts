import { type Kysely, sql } from 'kysely';
import type Provider from 'oidc-provider';
import { deleteClient } from '../../adapters/postgres-adapter.ts';
import { ACCOUNT_CLIENT_ID } from '../account/account-client.ts';
import type { Database } from '../storage/schema.ts';
import { notifyClientChanged } from './client-changes.ts';
import {
  ClientExistsError,
  ClientInputError,
  type ClientRegistration,
  checkRegistration,
  registrationMetadata,
} from './client-registration.ts';
import { generateClientSecret, hashClientSecret } from './client-secret.ts';
import { withoutSecretHashes } from './client-secret-rotation.ts';

export {
  ClientInputError,
  type ClientRegistration,
  GRANT_TYPES,
  type GrantType,
} from './client-registration.ts';

/** What `clients add` prints: the stored metadata with the secret in clear, shown this once. */
export type RegisteredClient = Record<string, unknown> & { client_id: string; client_secret?: string };

/** A stored client: its oidc-provider metadata (secret hashes included) and dates. */
export interface StoredClient {
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface ClientListFilter {
  /** Part of the client id or name, any case. */
  search?: string | undefined;
  firstParty?: boolean | undefined;
  grantType?: string | undefined;
  limit: number;
  /** After this client id: the previous page's last. */
  after?: string | undefined;
}

/** Registered clients in the `clients` table: checked, stored, listed, replaced and removed. */
export class ClientRegistry {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly provider: Provider,
    private readonly now: () => number = Date.now,
  ) {}

  async register(input: ClientRegistration): Promise<RegisteredClient> {
    checkRegistration(input, [ACCOUNT_CLIENT_ID]);
    const secret = input.public || input.keys ? undefined : (input.clientSecret ?? generateClientSecret());
    const metadata = registrationMetadata(
      input,
      secret ? { client_secret: hashClientSecret(secret), secret_created_at: Math.floor(this.now() / 1000) } : {},
    );
    await this.validate(metadata);
    const inserted = await this.db
      .insertInto('clients')
      .values({ client_id: input.clientId, metadata: JSON.stringify(metadata) })
      .onConflict((oc) => oc.column('client_id').doNothing())
      .returning('client_id')
      .executeTakeFirst();
    if (!inserted) throw new ClientExistsError(input.clientId);
    // Nodes that were asked for this id before cached it as unknown: they forget that now.
    await notifyClientChanged(this.db, input.clientId);
    return { ...metadata, ...(secret ? { client_secret: secret } : {}) } as RegisteredClient;
  }

  /** oidc-provider's own validation (redirect URIs, algorithms, Umbral's extra metadata). */
  async validate(metadata: Record<string, unknown>): Promise<void> {
    try {
      await this.provider.Client.validate(structuredClone(metadata) as never);
    } catch (error) {
      const e = error as { error_description?: string; message: string };
      const message = e.error_description ?? e.message;
      throw new ClientInputError(message, /^[a-z_]+\b/.exec(message)?.[0]);
    }
  }

  async find(clientId: string): Promise<StoredClient | undefined> {
    const row = await this.db
      .selectFrom('clients')
      .select(['metadata', 'created_at', 'updated_at'])
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row ? stored(row) : undefined;
  }

  /**
   * Replaces the metadata of a client, in one transaction with the read that `decide` judges
   * (the If-Match check): two updates of one client never interleave. `decide` returns the new
   * metadata, or throws to change nothing.
   */
  async replace(
    clientId: string,
    decide: (current: StoredClient) => Promise<Record<string, unknown>>,
  ): Promise<{ before: StoredClient; after: StoredClient } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('clients')
        .select(['metadata', 'created_at', 'updated_at'])
        .where('client_id', '=', clientId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) return undefined;
      const before = stored(row);
      const metadata = await decide(before);
      const updated = await trx
        .updateTable('clients')
        .set({ metadata: JSON.stringify(metadata), updated_at: new Date(this.now()) })
        .where('client_id', '=', clientId)
        .returning(['metadata', 'created_at', 'updated_at'])
        .executeTakeFirstOrThrow();
      // At commit every node drops the client from its cache (src/provider/node-sync.ts).
      await notifyClientChanged(trx, clientId);
      return { before, after: stored(updated) };
    });
  }

  /** Everything stored, without secret hashes (`umbral clients list`). */
  async list(): Promise<Array<Record<string, unknown>>> {
    const rows = await this.db.selectFrom('clients').select(['metadata', 'created_at']).orderBy('created_at').execute();
    return rows.map(({ metadata }) => withoutSecretHashes(metadata as Record<string, unknown>));
  }

  /** One page, by client id, filtered; one more than `limit` is read to tell whether a page follows. */
  async page(filter: ClientListFilter): Promise<StoredClient[]> {
    let query = this.db.selectFrom('clients').select(['client_id', 'metadata', 'created_at', 'updated_at']);
    if (filter.search) {
      const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where((eb) =>
        eb.or([eb('client_id', 'ilike', pattern), eb(sql`metadata->>'client_name'`, 'ilike', pattern)]),
      );
    }
    if (filter.firstParty !== undefined) {
      query = query.where(sql<boolean>`coalesce((metadata->>'first_party')::boolean, false) = ${filter.firstParty}`);
    }
    if (filter.grantType) {
      query = query.where(sql<boolean>`metadata->'grant_types' @> ${JSON.stringify([filter.grantType])}::jsonb`);
    }
    if (filter.after) query = query.where('client_id', '>', filter.after);
    const rows = await query
      .orderBy('client_id')
      .limit(filter.limit + 1)
      .execute();
    return rows.map(stored);
  }

  /** Removes the client and every token, code and grant issued to it (a registration access token too). */
  async remove(clientId: string): Promise<boolean> {
    return deleteClient(this.db, clientId);
  }
}

function stored(row: { metadata: unknown; created_at: Date | string; updated_at: Date | string }): StoredClient {
  const metadata = (typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata) as Record<
    string,
    unknown
  >;
  return { metadata, createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at) };
}
