import type { Kysely } from 'kysely';
import { type RotationAttempt, type TokenRequestScope, writeModelRow } from '../../adapters/postgres-adapter.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { RequestSlot } from '../http/request-scope.ts';
import type { Database } from '../storage/schema.ts';

/** Seconds after a rotation during which the rotated refresh token is answered with its successor. */
export const REFRESH_TOKEN_REUSE_GRACE_SECONDS = 5;

/** The token endpoint's answer to a refresh, as oidc-provider builds it. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  [parameter: string]: unknown;
}

export type RotationOutcome =
  /** This request rotated the token: its response stands, its successor is written. */
  | { kind: 'issued'; grantId: string | null }
  /** Another request rotated the token first: that request's response, again. */
  | { kind: 'replayed'; grantId: string | null; response: TokenResponse }
  /** Rotated by another request whose response is no longer kept, or revoked meanwhile. */
  | { kind: 'spent' };

interface SealedResponse {
  response: TokenResponse;
  issuedAt: number;
}

/**
 * Idempotent refresh-token rotation (RFC 9700 §4.14.2 with a reuse grace). oidc-provider rotates a
 * refresh token inside one token request; during that request the adapter writes nothing of the
 * rotation and hands it here (see TokenRequestScope). The commit then claims the token with one
 * conditional UPDATE (consumed_at is null) in a transaction with the successor's rows: across any
 * number of processes on one database exactly one request wins, and only its successor exists.
 * The winner stores its token response on the rotated row, sealed; every loser — a concurrent
 * request, or a repeat within the grace — answers with that response, so there is one chain.
 * No lock is held while oidc-provider works, so no request waits on another's database connection.
 */
export class RefreshRotations implements TokenRequestScope {
  readonly #requests = new RequestSlot<RotationAttempt>('refresh rotation');
  readonly graceSeconds: number;
  readonly now: () => number;
  readonly #db: Kysely<Database>;
  readonly #secretBox: SecretBox;

  constructor(options: { db: Kysely<Database>; secretBox: SecretBox; graceSeconds?: number; now?: () => number }) {
    this.#db = options.db;
    this.#secretBox = options.secretBox;
    this.graceSeconds = options.graceSeconds ?? REFRESH_TOKEN_REUSE_GRACE_SECONDS;
    this.now = options.now ?? Date.now;
  }

  /** Runs one token request; a rotation it makes waits for commit(). */
  run<T>(work: (attempt: RotationAttempt) => Promise<T>): Promise<T> {
    const attempt: RotationAttempt = { rows: [] };
    return this.#requests.run(attempt, () => work(attempt));
  }

  current(): RotationAttempt | undefined {
    return this.#requests.get();
  }

  /** Claims the rotated token for this request, or finds the response of the request that did. */
  async commit(tokenId: string, rows: RotationAttempt['rows'], response: TokenResponse): Promise<RotationOutcome> {
    const issuedAt = this.now();
    const sealed = this.#secretBox.seal(
      JSON.stringify({ response, issuedAt } satisfies SealedResponse),
      context(tokenId),
    );
    return this.#db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('oidc_models')
        .set({ consumed_at: new Date(issuedAt), rotation_response: sealed })
        .where('model', '=', 'RefreshToken')
        .where('id', '=', tokenId)
        .where('consumed_at', 'is', null)
        .returning('grant_id')
        .executeTakeFirst();
      if (claimed) {
        for (const row of rows) await writeModelRow(trx, row);
        // Earlier rotations of this grant are past their grace by now: their responses go.
        if (claimed.grant_id) await this.#forgetSpent(trx, claimed.grant_id);
        return { kind: 'issued', grantId: claimed.grant_id };
      }
      const rotated = await trx
        .selectFrom('oidc_models')
        .select(['grant_id', 'rotation_response'])
        .where('model', '=', 'RefreshToken')
        .where('id', '=', tokenId)
        .executeTakeFirst();
      if (!rotated?.rotation_response) return { kind: 'spent' };
      const kept = JSON.parse(this.#secretBox.open(rotated.rotation_response, context(tokenId))) as SealedResponse;
      return { kind: 'replayed', grantId: rotated.grant_id, response: this.#aged(kept) };
    });
  }

  /** Clears every kept response whose grace is over (the periodic purge). */
  async forgetSpent(): Promise<number> {
    const result = await this.#forgetSpent(this.#db);
    return Number(result.numUpdatedRows);
  }

  #forgetSpent(db: Kysely<Database>, grantId?: string) {
    let query = db
      .updateTable('oidc_models')
      .set({ rotation_response: null })
      .where('model', '=', 'RefreshToken')
      .where('rotation_response', 'is not', null)
      .where('consumed_at', '<', new Date(this.now() - this.graceSeconds * 1000));
    if (grantId) query = query.where('grant_id', '=', grantId);
    return query.executeTakeFirst();
  }

  /** The same response, its expires_in counted from now. */
  #aged({ response, issuedAt }: SealedResponse): TokenResponse {
    if (typeof response.expires_in !== 'number') return response;
    const elapsed = Math.floor((this.now() - issuedAt) / 1000);
    return { ...response, expires_in: Math.max(response.expires_in - elapsed, 0) };
  }
}

/** Binds a sealed response to its rotated token: copied to another row, it does not open. */
function context(tokenId: string): string {
  return `oidc_models.RefreshToken.${tokenId}.rotation_response`;
}
