import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { type Generated, type Kysely, sql } from 'kysely';
import type { Database, UserTable } from '../storage/schema.ts';
import {
  AccountTokenRepository,
  type AccountTokenRow,
  accountTokenData,
  hashOpaqueToken,
  newOpaqueToken,
} from './account-tokens.ts';

/**
 * Email verification secrets, in `account_tokens`: one row holds a link token (256 bits,
 * valid 24 h) and a 6-digit code (valid 15 min, 5 attempts). Only hashes are stored; a row is
 * single use, and issuing a new one (resend) kills the user's previous ones.
 */

export const VERIFY_EMAIL_PURPOSE = 'verify_email';
/**
 * Stand-in for a sign-up with an email that already has an account: the page and its limits
 * behave like a real verification, but no code or link can ever verify it.
 */
export const SIGNUP_DECOY_PURPOSE = 'signup_decoy';
export type VerificationPurpose = typeof VERIFY_EMAIL_PURPOSE | typeof SIGNUP_DECOY_PURPOSE;

export interface VerificationLimits {
  linkTtlSeconds: number;
  codeTtlSeconds: number;
  maxCodeAttempts: number;
  /** Emails per user: at most one per this many seconds… */
  minSecondsBetweenSends: number;
  /** …and at most this many per rolling hour. */
  maxSendsPerHour: number;
}

export const VERIFICATION_LIMITS: VerificationLimits = {
  linkTtlSeconds: 24 * 60 * 60,
  codeTtlSeconds: 15 * 60,
  maxCodeAttempts: 5,
  minSecondsBetweenSends: 60,
  maxSendsPerHour: 5,
};

/** What a verification remembers (jsonb `data`). */
export interface VerificationData {
  /** The interaction it was started in: the link continues it, and only it can complete with the code. */
  uid?: string | undefined;
  clientId?: string | undefined;
  /** The address as the person typed it (shown on the "revisa tu correo" page). */
  email: string;
  /** Why: a sign-up, or a login held back because the account is not verified yet. */
  reason: 'signup' | 'login';
  /** False when the send limit held the email back (such rows do not count against the limit). */
  sent: boolean;
  verified?: boolean;
  via?: 'code' | 'link';
  /** How the sign-in this verification holds back was authenticated (RFC 8176); absent: the password. */
  amr?: string[] | undefined;
}

export interface Verification {
  id: string;
  userId: string;
  purpose: VerificationPurpose;
  data: VerificationData;
  attempts: number;
  createdAt: Date;
  expiresAt: Date;
  codeExpiresAt: Date | null;
  consumedAt: Date | null;
}

export type CodeOutcome =
  | { outcome: 'verified'; verification: Verification }
  | { outcome: 'wrong' | 'expired' | 'exhausted' | 'gone' };

export type SendAllowance = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** The users table with the column migration 0004-signup adds. */
export type SignUpDatabase = Omit<Database, 'users'> & {
  users: UserTable & { email_verification_required: Generated<boolean> };
};

export function signUpDatabase(db: Kysely<Database>): Kysely<SignUpDatabase> {
  return db as unknown as Kysely<SignUpDatabase>;
}

/** Self-service accounts must verify their email before a login completes; operator-created ones need not. */
export function requiresEmailVerification(user: { email_verified: boolean }): boolean {
  return (
    !user.email_verified && (user as { email_verification_required?: boolean }).email_verification_required === true
  );
}

/** The code's hash is bound to its row, so equal codes never share a hash; the attempt limit guards its small space. */
function hashCode(id: string, code: string): Buffer {
  return createHash('sha256').update(`${id}:${code}`).digest();
}

export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

const PURPOSES = [VERIFY_EMAIL_PURPOSE, SIGNUP_DECOY_PURPOSE] as const;

export class EmailVerifications {
  private readonly tokens: AccountTokenRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly limits: VerificationLimits = VERIFICATION_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = new AccountTokenRepository(db, now);
  }

  /** Whether another email may go to this user now (sign-up, resend, held-back login alike). */
  async sendAllowance(userId: string): Promise<SendAllowance> {
    const now = this.now();
    const rows = await this.db
      .selectFrom('account_tokens')
      .select('created_at')
      .where('user_id', '=', userId)
      .where('purpose', 'in', PURPOSES)
      .where('created_at', '>', new Date(now - 60 * 60 * 1000))
      .where(sql<string>`data->>'sent'`, '=', 'true')
      .orderBy('created_at', 'desc')
      .execute();
    const latest = rows[0]?.created_at.getTime();
    if (latest !== undefined && now - latest < this.limits.minSecondsBetweenSends * 1000) {
      return {
        allowed: false,
        retryAfterSeconds: Math.ceil((latest + this.limits.minSecondsBetweenSends * 1000 - now) / 1000),
      };
    }
    if (rows.length >= this.limits.maxSendsPerHour) {
      const oldest = rows[this.limits.maxSendsPerHour - 1]!.created_at.getTime();
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + 60 * 60 * 1000 - now) / 1000)) };
    }
    return { allowed: true };
  }

  /** A new verification for the user; every earlier one of the same purpose stops working. */
  async issue(
    userId: string,
    purpose: VerificationPurpose,
    data: VerificationData,
  ): Promise<{ verification: Verification; token: string; code: string }> {
    const id = randomBytes(16).toString('base64url');
    const token = newOpaqueToken();
    const code = newCode();
    // A decoy's code hash matches no code: nothing entered can ever verify it.
    const codeHash = purpose === VERIFY_EMAIL_PURPOSE ? hashCode(id, code) : randomBytes(32);
    const row = await this.tokens.issue({
      id,
      userId,
      purpose,
      tokenHash: hashOpaqueToken(token),
      codeHash: codeHash.toString('hex'),
      data,
      ttlMs: this.limits.linkTtlSeconds * 1000,
      codeTtlMs: this.limits.codeTtlSeconds * 1000,
    });
    return { verification: toVerification(row), token, code };
  }

  async find(id: string): Promise<Verification | undefined> {
    const row = await this.tokens.findById(id, PURPOSES);
    return row ? toVerification(row) : undefined;
  }

  /** The latest verification of the user that a code or link can still complete. */
  async latestLive(userId: string): Promise<Verification | undefined> {
    const row = await this.tokens.latestValid(userId, VERIFY_EMAIL_PURPOSE);
    return row ? toVerification(row) : undefined;
  }

  /** Moves a verification to another interaction (a held-back login while the send limit applies). */
  async rebind(id: string, changes: Partial<VerificationData>): Promise<void> {
    await this.db
      .updateTable('account_tokens')
      .set({ data: sql`data || ${JSON.stringify(changes)}::jsonb` as never })
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .execute();
  }

  /** Counts an attempt, then checks the code: five wrong ones and the code is dead. */
  async checkCode(id: string, code: string): Promise<CodeOutcome> {
    const row = await this.tokens.findById(id, PURPOSES);
    const found = row ? toVerification(row) : undefined;
    if (!found || found.consumedAt) return { outcome: 'gone' };
    if (found.attempts >= this.limits.maxCodeAttempts) return { outcome: 'exhausted' };
    if (!found.codeExpiresAt || found.codeExpiresAt.getTime() <= this.now()) return { outcome: 'expired' };
    const counted = await this.db
      .updateTable('account_tokens')
      .set({ attempts: sql`attempts + 1` })
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .where('attempts', '<', this.limits.maxCodeAttempts)
      .returning('attempts')
      .executeTakeFirst();
    if (!counted) return { outcome: 'exhausted' };
    const expected = Buffer.from(row?.code_hash ?? '', 'hex');
    const actual = hashCode(id, code);
    const matches =
      expected.length === actual.length && timingSafeEqual(expected, actual) && found.purpose === VERIFY_EMAIL_PURPOSE;
    if (!matches) return { outcome: counted.attempts >= this.limits.maxCodeAttempts ? 'exhausted' : 'wrong' };
    const verified = await this.markVerified(id, 'code');
    return verified ? { outcome: 'verified', verification: verified } : { outcome: 'gone' };
  }

  /** The verification a link's token belongs to, whatever its state (the page explains used or expired links). */
  async findByToken(token: string): Promise<Verification | undefined> {
    const row = await this.tokens.findByToken(token, VERIFY_EMAIL_PURPOSE);
    return row ? toVerification(row) : undefined;
  }

  isLinkLive(verification: Verification): boolean {
    return !verification.consumedAt && verification.expiresAt.getTime() > this.now();
  }

  /** Verifies by link: the token must be live; returns the verification, now consumed. */
  async confirmLink(token: string): Promise<Verification | undefined> {
    const found = await this.findByToken(token);
    if (!found || !this.isLinkLive(found)) return undefined;
    return this.markVerified(found.id, 'link');
  }

  /** Consumes the verification (once: a concurrent second use gets nothing) and marks the email verified. */
  private async markVerified(id: string, via: 'code' | 'link'): Promise<Verification | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await new AccountTokenRepository(trx, this.now).consume(id, VERIFY_EMAIL_PURPOSE, {
        verified: true,
        via,
      });
      if (!row) return undefined;
      await trx
        .updateTable('users')
        .set({ email_verified: true, updated_at: new Date(this.now()) })
        .where('id', '=', row.user_id)
        .execute();
      return toVerification(row);
    });
  }
}

function toVerification(row: AccountTokenRow): Verification {
  const data = accountTokenData<VerificationData>(row);
  return {
    id: row.id,
    userId: row.user_id,
    purpose: row.purpose as VerificationPurpose,
    data,
    attempts: row.attempts,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    codeExpiresAt: row.code_expires_at ? new Date(row.code_expires_at) : null,
    consumedAt: row.consumed_at ? new Date(row.consumed_at) : null,
  };
}
