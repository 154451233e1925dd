import { createHash, createHmac, hkdfSync, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export const RECOVERY_CODE_COUNT = 10;
/** No 0/o, 1/l/i: codes are read off paper and typed back. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/**
 * Ten symbols of 31, shown as two groups of five ("k7mqa-3xr9t"): about 49.5 random bits a code,
 * short enough to copy by hand. The trade-off against the 28-symbol codes issued before (138 bits):
 * a code is only a second factor (the password comes first), single-use, and its guesses are
 * throttled like any second factor's; and it is stored as an HMAC under a key derived from
 * SECRET_ENCRYPTION_KEY, not a plain hash, so a copy of the database alone gives no way to test
 * guesses offline.
 */
const SYMBOLS = 10;
const GROUP = 5;
/** The length of the codes issued before: still accepted (their plain SHA-256 was safe at 138 bits). */
const LEGACY_SYMBOLS = 28;

function newCode(): string {
  let raw = '';
  for (let i = 0; i < SYMBOLS; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
  return raw.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

/** Dashes, spaces and case do not matter when a code is typed back. */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, '');
}

function legacyHash(normalized: string): string {
  return createHash('sha256').update(`umbral recovery code:${normalized}`).digest('hex');
}

/**
 * Ten single-use recovery codes per user, shown once and stored hashed; generating a new set
 * voids the old one. A code is a second factor for when the phone or passkey is lost.
 */
export class RecoveryCodes {
  private readonly hmacKey: Buffer | undefined;

  /** `secretKey` (the SecretBox's): without it (the CLI's removeAll) codes can be removed, not made or used. */
  constructor(
    private readonly db: Kysely<Database>,
    secretKey?: Buffer,
  ) {
    this.hmacKey = secretKey
      ? Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'umbral recovery codes', 32))
      : undefined;
  }

  private hash(normalized: string): string {
    if (normalized.length === LEGACY_SYMBOLS) return legacyHash(normalized);
    if (!this.hmacKey) throw new Error('recovery codes need the secret key');
    return `h1:${createHmac('sha256', this.hmacKey).update(normalized).digest('hex')}`;
  }

  async regenerate(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
      await trx
        .insertInto('mfa_recovery_codes')
        .values(codes.map((code) => ({ user_id: userId, code_hash: this.hash(normalizeRecoveryCode(code)) })))
        .execute();
    });
    return codes;
  }

  /** Spends the code when it is one of the user's unused ones: true once, never again. */
  async use(userId: string, input: string): Promise<boolean> {
    const normalized = normalizeRecoveryCode(input);
    const length = normalized.length;
    if ((length !== SYMBOLS && length !== LEGACY_SYMBOLS) || ![...normalized].every((c) => ALPHABET.includes(c)))
      return false;
    const result = await this.db
      .updateTable('mfa_recovery_codes')
      .set({ used_at: new Date() })
      .where('code_hash', '=', this.hash(normalized))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async remaining(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('mfa_recovery_codes')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async hasAny(userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('mfa_recovery_codes')
      .select('code_hash')
      .where('user_id', '=', userId)
      .limit(1)
      .executeTakeFirst();
    return !!row;
  }

  async removeAll(userId: string): Promise<void> {
    await this.db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
  }
}
