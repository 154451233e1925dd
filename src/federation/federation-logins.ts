import { createHash, randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { ProviderName } from './federation-settings.ts';
import type { UpstreamIdentity } from './upstream-identity.ts';

/** From the redirect to the provider until its callback. */
const STARTED_TTL_MS = 10 * 60 * 1000;
/** From the callback until the sign-in completes (the sign-up or link page may take a while). */
const AUTHENTICATED_TTL_MS = 30 * 60 * 1000;

export interface StartedLogin {
  id: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface ClaimedLogin {
  id: string;
  provider: ProviderName;
  interactionUid: string;
  nonce: string;
  codeVerifier: string;
}

export interface AuthenticatedLogin {
  id: string;
  provider: ProviderName;
  interactionUid: string;
  identity: UpstreamIdentity;
}

const random = (bytes: number) => randomBytes(bytes).toString('base64url');
const hash = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Upstream sign-ins in progress (`federation_logins`). State, nonce and PKCE verifier are 256-bit
 * random values; the state is stored hashed. Each row is bound to the interaction it continues
 * and to this browser (a hash of its binding cookie), and moves one way:
 * started → exchanging (claimed once, by the callback) → authenticated → done.
 */
export class FederationLogins {
  constructor(private readonly db: Kysely<Database>) {}

  async start(provider: ProviderName, interactionUid: string, binding: string): Promise<StartedLogin> {
    const now = Date.now();
    // Abandoned sign-ins are few and small: each start clears the expired ones.
    await this.db.deleteFrom('federation_logins').where('expires_at', '<', new Date(now)).execute();
    const login = { id: random(16), state: random(32), nonce: random(32), codeVerifier: random(32) };
    await this.db
      .insertInto('federation_logins')
      .values({
        id: login.id,
        state_hash: hash(login.state),
        binding_hash: hash(binding),
        provider,
        interaction_uid: interactionUid,
        nonce: login.nonce,
        code_verifier: login.codeVerifier,
        expires_at: new Date(now + STARTED_TTL_MS),
      })
      .execute();
    return login;
  }

  /** The callback's claim on its state: once only, from the browser that started it, before it expires. */
  async claim(provider: ProviderName, state: string, binding: string | undefined): Promise<ClaimedLogin | undefined> {
    if (!binding || !state || state.length > 200) return undefined;
    const row = await this.db
      .updateTable('federation_logins')
      .set({ status: 'exchanging' })
      .where('state_hash', '=', hash(state))
      .where('binding_hash', '=', hash(binding))
      .where('provider', '=', provider)
      .where('status', '=', 'started')
      .where('expires_at', '>', new Date())
      .returning(['id', 'provider', 'interaction_uid', 'nonce', 'code_verifier'])
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      provider: row.provider as ProviderName,
      interactionUid: row.interaction_uid,
      nonce: row.nonce,
      codeVerifier: row.code_verifier,
    };
  }

  /** Keeps who signed in upstream (never the tokens), for the interaction's next pages. */
  async authenticated(id: string, identity: UpstreamIdentity): Promise<void> {
    await this.db
      .updateTable('federation_logins')
      .set({
        status: 'authenticated',
        upstream: JSON.stringify(identity),
        expires_at: new Date(Date.now() + AUTHENTICATED_TTL_MS),
      })
      .where('id', '=', id)
      .where('status', '=', 'exchanging')
      .execute();
  }

  /** A failed or refused callback: the row can never be used again. */
  async abandon(id: string): Promise<void> {
    await this.db
      .updateTable('federation_logins')
      .set({ status: 'done', upstream: null })
      .where('id', '=', id)
      .execute();
  }

  /** An authenticated sign-in of this interaction and browser, still open. */
  async find(id: string, interactionUid: string, binding: string | undefined): Promise<AuthenticatedLogin | undefined> {
    if (!binding || !id || id.length > 64) return undefined;
    const row = await this.db
      .selectFrom('federation_logins')
      .select(['id', 'provider', 'interaction_uid', 'upstream'])
      .where('id', '=', id)
      .where('interaction_uid', '=', interactionUid)
      .where('binding_hash', '=', hash(binding))
      .where('status', '=', 'authenticated')
      .where('expires_at', '>', new Date())
      .executeTakeFirst();
    if (!row?.upstream) return undefined;
    const identity = (typeof row.upstream === 'string' ? JSON.parse(row.upstream) : row.upstream) as UpstreamIdentity;
    return { id: row.id, provider: row.provider as ProviderName, interactionUid: row.interaction_uid, identity };
  }

  /** Ends the sign-in (it completed, or became a sign-up awaiting email verification); false if it already had. */
  async finish(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('federation_logins')
      .set({ status: 'done', upstream: sql`null` })
      .where('id', '=', id)
      .where('status', '=', 'authenticated')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
