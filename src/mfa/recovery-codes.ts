import { createHash, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export const RECOVERY_CODE_COUNT = 10;
/** No 0/o, 1/l/i: codes are read off paper. 31 symbols, 28 of them: over 138 random bits a code. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const SYMBOLS = 28;
const GROUP = 4;

function newCode(): string {
  let raw = '';
  for (let i = 0; i < SYMBOLS; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
  return raw.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

/** Dashes, spaces and case do not matter when a code is typed back. */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, '');
}

/** The codes have over 138 random bits, so a plain SHA-256 cannot be reversed by guessing. */
function hashCode(normalized: string): string {
  return createHash('sha256').update(`umbral recovery code:${normalized}`).digest('hex');
}

/**
 * Ten single-use recovery codes per user, shown once and stored hashed; generating a new set
 * voids the old one. A code is a second factor for when the phone or passkey is lost.
 */
export class RecoveryCodes {
  constructor(private readonly db: Kysely<Database>) {}

  async regenerate(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
      await trx
        .insertInto('mfa_recovery_codes')
        .values(codes.map((code) => ({ user_id: userId, code_hash: hashCode(normalizeRecoveryCode(code)) })))
        .execute();
    });
    return codes;
  }

  /** Spends the code when it is one of the user's unused ones: true once, never again. */
  async use(userId: string, input: string): Promise<boolean> {
    const normalized = normalizeRecoveryCode(input);
    if (normalized.length !== SYMBOLS || ![...normalized].every((c) => ALPHABET.includes(c))) return false;
    const result = await this.db
      .updateTable('mfa_recovery_codes')
      .set({ used_at: new Date() })
      .where('code_hash', '=', hashCode(normalized))
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
