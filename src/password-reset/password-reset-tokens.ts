import type { Kysely } from 'kysely';
import { revokeEverything } from '../sessions/revoke-everything.ts';
import type { Database } from '../storage/schema.ts';
import { AccountTokenRepository, accountTokenData } from '../users/account-tokens.ts';

export const RESET_PURPOSE = 'reset_password';
/** How long a reset link works. */
export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;

/** Stored with each reset token. */
export interface ResetTokenData {
  /** The sign-in the reset was started from, to return to it afterwards. */
  interactionUid?: string;
  /** The client_name of that sign-in's portal: the new password may not be based on it. */
  portalName?: string;
  /** That portal's client_id: the link's pages carry its branding (src/http/page-branding.ts). */
  clientId?: string;
}

export interface ValidResetToken {
  id: string;
  userId: string;
  email: string;
  data: ResetTokenData;
}

/** Reset tokens in `account_tokens` (purpose reset_password): single use, expiring, at most one live per user. */
export class PasswordResetTokens {
  private readonly tokens: AccountTokenRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = new AccountTokenRepository(db, now);
  }

  /**
   * Stores a new token for `userId`, and consumes every older unconsumed one: only the newest
   * link works. Without a user, runs the same invalidating statement against no one, so both
   * paths do comparable work.
   */
  async issue(userId: string | undefined, hash: string, data: ResetTokenData): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const tokens = new AccountTokenRepository(trx, this.now);
      await tokens.voidOutstanding(userId ?? '', RESET_PURPOSE);
      if (!userId) return;
      await tokens.insert({ userId, purpose: RESET_PURPOSE, tokenHash: hash, data, ttlMs: RESET_TOKEN_TTL_MS });
    });
  }

  /** The token's row when it is unused, unexpired and its account enabled; does not consume it. */
  async find(token: string): Promise<ValidResetToken | undefined> {
    const found = await this.tokens.findValid(token, RESET_PURPOSE);
    if (!found) return undefined;
    const { row, owner } = found;
    return { id: row.id, userId: row.user_id, email: owner.email, data: accountTokenData<ResetTokenData>(row) };
  }

  /**
   * In one transaction: consumes the token (only if still valid: a concurrent redeem loses),
   * consumes every other reset token of the user, sets the new password, and deletes every
   * session, grant, code and token of the user, which signs them out everywhere and makes
   * their refresh tokens fail. Returns the token, or undefined when it was no longer valid.
   */
  async redeem(tokenId: string, passwordHash: string): Promise<{ userId: string; data: ResetTokenData } | undefined> {
    const at = new Date(this.now());
    return this.db.transaction().execute(async (trx) => {
      const tokens = new AccountTokenRepository(trx, () => at.getTime());
      const consumed = await tokens.consume(tokenId, RESET_PURPOSE);
      if (!consumed) return undefined;
      const userId = consumed.user_id;
      await tokens.voidOutstanding(userId, RESET_PURPOSE);
      // Following the link proved control of the mailbox.
      await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, password_changed_at: at, updated_at: at, email_verified: true })
        .where('id', '=', userId)
        .execute();
      await revokeEverything(trx, userId);
      return { userId, data: accountTokenData<ResetTokenData>(consumed) };
    });
  }
}
