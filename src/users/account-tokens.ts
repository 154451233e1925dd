import { hash, randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { AccountTokenTable, Database } from '../storage/schema.ts';

/**
 * The single-use secrets mailed to account owners, in `account_tokens`: email verification
 * (and its sign-up decoys), password reset, email change, unlocking the password sign-in. Each
 * is an opaque token in a link; only its hash is stored, so a leaked table gives no working link.
 * Issuing one voids the user's earlier ones of the same purpose: only the newest link works.
 */

export type AccountTokenPurpose = 'verify_email' | 'signup_decoy' | 'reset_password' | 'change_email' | 'unlock_login';
export type AccountTokenRow = Selectable<AccountTokenTable>;

/** 256 random bits, base64url: exactly 43 characters. */
const OPAQUE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What is stored for a token: its SHA-256, hex (migration 0008 brought every purpose to this form).
 * The one-shot `crypto.hash` (0.5 µs here against 2.3 µs for createHash): every token request hashes.
 */
export function hashOpaqueToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** Whether a string from a link can be a token at all: anything else is refused before a lookup. */
export function isOpaqueToken(token: string): boolean {
  return OPAQUE_TOKEN_PATTERN.test(token);
}

export interface NewAccountToken {
  /** Given when something else is bound to the row's id (the verification code's hash). */
  id?: string | undefined;
  userId: string;
  purpose: AccountTokenPurpose;
  tokenHash: string;
  ttlMs: number;
  /** Whatever the purpose remembers (jsonb). */
  data: object;
  codeHash?: string | undefined;
  codeTtlMs?: number | undefined;
}

/** An unused, unexpired token of an enabled account, with what its callers check against it. */
export interface ValidAccountToken {
  row: AccountTokenRow;
  owner: { email: string; passwordChangedAt: Date | null };
}

/** The `data` of a row, parsed whichever way the driver returned it. */
export function accountTokenData<T>(row: Pick<AccountTokenRow, 'data'>): T {
  const data = typeof row.data === 'string' ? JSON.parse(row.data) : (row.data ?? {});
  return data as T;
}

export class AccountTokenRepository {
  /** `db` may be a transaction: its operations then join it. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Stores a new token and voids the user's earlier ones of the same purpose, atomically. */
  async issue(token: NewAccountToken): Promise<AccountTokenRow> {
    const work = async (db: Kysely<Database>) => {
      const tokens = new AccountTokenRepository(db, this.now);
      await tokens.voidOutstanding(token.userId, token.purpose);
      return tokens.insert(token);
    };
    return this.db.isTransaction ? work(this.db) : this.db.transaction().execute(work);
  }

  /** Stores a token as is; `issue` is the usual way, this is for callers that void in their own transaction. */
  async insert(token: NewAccountToken): Promise<AccountTokenRow> {
    const now = this.now();
    return this.db
      .insertInto('account_tokens')
      .values({
        id: token.id ?? randomUUID(),
        user_id: token.userId,
        purpose: token.purpose,
        token_hash: token.tokenHash,
        code_hash: token.codeHash ?? null,
        data: JSON.stringify(token.data),
        created_at: new Date(now),
        expires_at: new Date(now + token.ttlMs),
        code_expires_at: token.codeTtlMs === undefined ? null : new Date(now + token.codeTtlMs),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Consumes every unused token of the purpose of the user: their links stop working. */
  async voidOutstanding(userId: string, purpose: AccountTokenPurpose): Promise<void> {
    await this.db
      .updateTable('account_tokens')
      .set({ consumed_at: new Date(this.now()) })
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('consumed_at', 'is', null)
      .execute();
  }

  /** A row by id, whatever its state. */
  async findById(id: string, purposes: readonly AccountTokenPurpose[]): Promise<AccountTokenRow | undefined> {
    return this.db
      .selectFrom('account_tokens')
      .selectAll()
      .where('id', '=', id)
      .where('purpose', 'in', purposes)
      .executeTakeFirst();
  }

  /** The row a link's token belongs to, whatever its state (used and expired links can be explained). */
  async findByToken(token: string, purpose: AccountTokenPurpose): Promise<AccountTokenRow | undefined> {
    if (!isOpaqueToken(token)) return undefined;
    return this.db
      .selectFrom('account_tokens')
      .selectAll()
      .where('token_hash', '=', hashOpaqueToken(token))
      .where('purpose', '=', purpose)
      .executeTakeFirst();
  }

  /** The token's row when it is unused, unexpired and its account enabled; does not consume it. */
  async findValid(token: string, purpose: AccountTokenPurpose): Promise<ValidAccountToken | undefined> {
    if (!isOpaqueToken(token)) return undefined;
    const found = await this.db
      .selectFrom('account_tokens')
      .innerJoin('users', 'users.id', 'account_tokens.user_id')
      .selectAll('account_tokens')
      .select(['users.email as owner_email', 'users.password_changed_at as owner_password_changed_at'])
      .where('account_tokens.token_hash', '=', hashOpaqueToken(token))
      .where('account_tokens.purpose', '=', purpose)
      .where('account_tokens.consumed_at', 'is', null)
      .where('account_tokens.expires_at', '>', new Date(this.now()))
      .where('users.disabled', '=', false)
      .executeTakeFirst();
    if (!found) return undefined;
    const { owner_email, owner_password_changed_at, ...row } = found;
    return { row, owner: { email: owner_email, passwordChangedAt: owner_password_changed_at } };
  }

  /** The user's newest unused, unexpired token of the purpose. */
  async latestValid(userId: string, purpose: AccountTokenPurpose): Promise<AccountTokenRow | undefined> {
    return this.db
      .selectFrom('account_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', new Date(this.now()))
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  }

  /** How many tokens of the purpose the user was issued since `since`, used or not (sending limits). */
  async countIssuedSince(userId: string, purpose: AccountTokenPurpose, since: Date): Promise<number> {
    const { count } = await this.db
      .selectFrom('account_tokens')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('created_at', '>', since)
      .executeTakeFirstOrThrow();
    return Number(count);
  }

  /**
   * Uses up a token, once: only while it is unused and unexpired, so of two concurrent uses one
   * gets nothing. `data` is merged into what the row remembers. Returns the consumed row.
   */
  async consume(
    id: string,
    purpose: AccountTokenPurpose,
    data?: Record<string, unknown>,
  ): Promise<AccountTokenRow | undefined> {
    const at = new Date(this.now());
    return this.db
      .updateTable('account_tokens')
      .set({
        consumed_at: at,
        ...(data ? { data: sql`data || ${JSON.stringify(data)}::jsonb` as never } : {}),
      })
      .where('id', '=', id)
      .where('purpose', '=', purpose)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', at)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Deletes rows a week after they expired. Kept that long because the sending limits count
   * recent rows (per hour, per day), used or not.
   */
  async purgeExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('account_tokens')
      .where('expires_at', '<', sql<Date>`now() - interval '7 days'`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** The periodic clean-up's entry point (see AccountTokenRepository.purgeExpired). */
export function purgeExpiredAccountTokens(db: Kysely<Database>): Promise<number> {
  return new AccountTokenRepository(db).purgeExpired();
}
