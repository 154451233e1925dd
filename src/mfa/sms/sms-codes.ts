import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../storage/schema.ts';

export type SmsPurpose = 'login' | 'enroll';

export interface SmsCodeLimits {
  /** A code works this long after it is sent. */
  codeTtlSeconds: number;
  /** Wrong codes per challenge, resends included: a resend never gives more tries. */
  maxAttempts: number;
  /** A challenge (the first code and its resends) lives this long; then a fresh one may start. */
  challengeTtlSeconds: number;
  minSecondsBetweenSends: number;
  /** Messages per user per rolling hour, all purposes together (SMS costs money and can be abused). */
  maxSendsPerHour: number;
}

export const SMS_CODE_LIMITS: SmsCodeLimits = {
  codeTtlSeconds: 10 * 60,
  maxAttempts: 5,
  challengeTtlSeconds: 30 * 60,
  minSecondsBetweenSends: 30,
  maxSendsPerHour: 5,
};

export type SendDecision =
  | { allowed: true; code: string; challengeId: string }
  | { allowed: false; reason: 'wait' | 'exhausted'; retryAfterSeconds: number };

export type CheckOutcome = 'verified' | 'wrong' | 'expired' | 'exhausted' | 'none';

function hashCode(challengeId: string, code: string): Buffer {
  return createHash('sha256').update(`${challengeId}:${code}`).digest();
}

/**
 * Six-digit SMS codes (mfa_sms_challenges): hashed, single use, valid 10 minutes, five attempts
 * per challenge. A resend replaces the code but keeps the attempt count, and is rate limited.
 */
export class SmsCodes {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly limits: SmsCodeLimits = SMS_CODE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new code for (user, purpose, phone), to be sent now, or why not yet. */
  async issue(userId: string, purpose: SmsPurpose, phone: string): Promise<SendDecision> {
    const now = this.now();
    const live = await this.live(userId, purpose, phone);
    if (live) {
      if (live.attempts >= this.limits.maxAttempts) {
        return { allowed: false, reason: 'exhausted', retryAfterSeconds: secondsUntil(live.expires_at, now) };
      }
      const sinceLast = now - new Date(live.last_sent_at).getTime();
      if (sinceLast < this.limits.minSecondsBetweenSends * 1000) {
        return {
          allowed: false,
          reason: 'wait',
          retryAfterSeconds: Math.ceil((this.limits.minSecondsBetweenSends * 1000 - sinceLast) / 1000),
        };
      }
    }
    const hourly = await this.sendsInLastHour(userId, now);
    if (hourly.count >= this.limits.maxSendsPerHour) {
      return {
        allowed: false,
        reason: 'wait',
        retryAfterSeconds: Math.max(1, secondsUntil(new Date(hourly.oldest + 60 * 60 * 1000), now)),
      };
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    if (live) {
      await this.db
        .updateTable('mfa_sms_challenges')
        .set({
          code_hash: hashCode(live.id, code).toString('hex'),
          sends: sql`sends + 1`,
          last_sent_at: new Date(now),
          code_expires_at: new Date(now + this.limits.codeTtlSeconds * 1000),
        })
        .where('id', '=', live.id)
        .execute();
      return { allowed: true, code, challengeId: live.id };
    }
    const id = randomBytes(16).toString('base64url');
    await this.db
      .insertInto('mfa_sms_challenges')
      .values({
        id,
        user_id: userId,
        purpose,
        phone,
        code_hash: hashCode(id, code).toString('hex'),
        last_sent_at: new Date(now),
        code_expires_at: new Date(now + this.limits.codeTtlSeconds * 1000),
        expires_at: new Date(now + this.limits.challengeTtlSeconds * 1000),
        created_at: new Date(now),
      })
      .execute();
    return { allowed: true, code, challengeId: id };
  }

  /** Whether a code was sent for (user, purpose, phone) that can still be entered. */
  async pending(userId: string, purpose: SmsPurpose, phone: string): Promise<boolean> {
    const live = await this.live(userId, purpose, phone);
    return !!live && live.attempts < this.limits.maxAttempts;
  }

  /** The phone of the user's latest challenge of `purpose` that a code can still complete (enrollment in progress). */
  async pendingPhone(userId: string, purpose: SmsPurpose): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('mfa_sms_challenges')
      .select(['phone', 'attempts'])
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', new Date(this.now()))
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row ? row.phone : undefined;
  }

  /** Counts the attempt, then compares; a right code is spent. */
  async check(userId: string, purpose: SmsPurpose, phone: string, input: string): Promise<CheckOutcome> {
    const live = await this.live(userId, purpose, phone);
    if (!live) return 'none';
    if (live.attempts >= this.limits.maxAttempts) return 'exhausted';
    if (new Date(live.code_expires_at).getTime() <= this.now()) return 'expired';
    const counted = await this.db
      .updateTable('mfa_sms_challenges')
      .set({ attempts: sql`attempts + 1` })
      .where('id', '=', live.id)
      .where('consumed_at', 'is', null)
      .where('attempts', '<', this.limits.maxAttempts)
      .returning(['attempts', 'code_hash'])
      .executeTakeFirst();
    if (!counted) return 'exhausted';
    const code = input.replace(/[\s-]/g, '');
    const expected = Buffer.from(counted.code_hash, 'hex');
    const actual = hashCode(live.id, code);
    if (!/^\d{6}$/.test(code) || !timingSafeEqual(expected, actual)) {
      return counted.attempts >= this.limits.maxAttempts ? 'exhausted' : 'wrong';
    }
    const consumed = await this.db
      .updateTable('mfa_sms_challenges')
      .set({ consumed_at: new Date(this.now()) })
      .where('id', '=', live.id)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    return Number(consumed.numUpdatedRows) === 1 ? 'verified' : 'none';
  }

  private live(userId: string, purpose: SmsPurpose, phone: string) {
    return this.db
      .selectFrom('mfa_sms_challenges')
      .selectAll()
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('phone', '=', phone)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', new Date(this.now()))
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  }

  private async sendsInLastHour(userId: string, now: number): Promise<{ count: number; oldest: number }> {
    const rows = await this.db
      .selectFrom('mfa_sms_challenges')
      .select(['sends', 'last_sent_at', 'created_at'])
      .where('user_id', '=', userId)
      .where('last_sent_at', '>', new Date(now - 60 * 60 * 1000))
      .execute();
    const count = rows.reduce((sum, r) => sum + r.sends, 0);
    const oldest = Math.min(...rows.map((r) => new Date(r.created_at).getTime()), now);
    return { count, oldest };
  }
}

function secondsUntil(at: Date | string, now: number): number {
  return Math.max(1, Math.ceil((new Date(at).getTime() - now) / 1000));
}
