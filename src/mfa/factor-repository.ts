import { randomBytes } from 'node:crypto';
import { CompiledQuery, type Kysely, type Selectable, sql } from 'kysely';
import type { Database, MfaFactorTable } from '../storage/schema.ts';

const HAS_CONFIRMED_FACTOR = 'select id from mfa_factors where user_id = $1 and confirmed_at is not null limit 1';

export type FactorKind = 'totp' | 'sms' | 'passkey';

/** A confirmed second factor, as pages and the login see it (no secret material). */
export interface Factor {
  id: string;
  userId: string;
  kind: FactorKind;
  label: string | null;
  phone: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** A passkey's public part, as WebAuthn verification needs it. */
export interface PasskeyRecord extends Factor {
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  transports: string[];
  deviceType: string | null;
  backedUp: boolean;
}

export interface NewPasskey {
  label: string;
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
}

type Row = Selectable<MfaFactorTable>;

export const MAX_LABEL_LENGTH = 60;

export function newFactorId(): string {
  return randomBytes(16).toString('base64url');
}

/** The mfa_factors table. Unconfirmed rows (an authenticator app being set up) never count as factors. */
export class FactorRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The user's factors, the one used last first (the login offers it first). */
  async list(userId: string): Promise<Factor[]> {
    const rows = await this.db
      .selectFrom('mfa_factors')
      .selectAll()
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .orderBy(sql`last_used_at desc nulls last`)
      .orderBy('created_at', 'asc')
      .execute();
    return rows.map(toFactor);
  }

  async hasFactors(userId: string): Promise<boolean> {
    // Asked at every password sign-in: written out once rather than built each time.
    const { rows } = await this.db.executeQuery(CompiledQuery.raw(HAS_CONFIRMED_FACTOR, [userId]));
    return rows.length > 0;
  }

  async find(userId: string, id: string): Promise<Factor | undefined> {
    const row = await this.confirmedRow(userId, id);
    return row ? toFactor(row) : undefined;
  }

  /** An authenticator app being set up: replaces any earlier unfinished one of the user. */
  async startTotp(userId: string, sealedSecret: (id: string) => string): Promise<string> {
    const id = newFactorId();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('mfa_factors')
        .where('user_id', '=', userId)
        .where('kind', '=', 'totp')
        .where('confirmed_at', 'is', null)
        .execute();
      await trx
        .insertInto('mfa_factors')
        .values({ id, user_id: userId, kind: 'totp', totp_secret: sealedSecret(id) })
        .execute();
    });
    return id;
  }

  /** The authenticator app the user is setting up, if any. */
  async pendingTotpId(userId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('mfa_factors')
      .select('id')
      .where('user_id', '=', userId)
      .where('kind', '=', 'totp')
      .where('confirmed_at', 'is', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row?.id;
  }

  /** The sealed secret of an authenticator app, confirmed or being set up. */
  async totpSecret(
    userId: string,
    id: string,
    state: 'pending' | 'confirmed',
  ): Promise<{ sealed: string; lastStep: number | null } | undefined> {
    const row = await this.db
      .selectFrom('mfa_factors')
      .select(['totp_secret', 'totp_last_step'])
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('kind', '=', 'totp')
      .where('confirmed_at', state === 'pending' ? 'is' : 'is not', null)
      .executeTakeFirst();
    if (!row?.totp_secret) return undefined;
    return { sealed: row.totp_secret, lastStep: row.totp_last_step === null ? null : Number(row.totp_last_step) };
  }

  /**
   * Records that a code of `step` was accepted, only if no code of that step or a later one was:
   * false means a replay (or a concurrent use of the same code), which must be refused.
   */
  async claimTotpStep(id: string, step: number): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_factors')
      .set({ totp_last_step: step, last_used_at: new Date() })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Enables an authenticator app once a correct code was given (its step already claimed). */
  async confirmTotp(userId: string, id: string, label: string): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_factors')
      .set({ confirmed_at: new Date(), label })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async addSms(userId: string, phone: string): Promise<Factor> {
    const now = new Date();
    const row = await this.db.transaction().execute(async (trx) => {
      // One SMS factor per number: enrolling the same phone again replaces it.
      await trx
        .deleteFrom('mfa_factors')
        .where('user_id', '=', userId)
        .where('kind', '=', 'sms')
        .where('phone', '=', phone)
        .execute();
      return trx
        .insertInto('mfa_factors')
        .values({ id: newFactorId(), user_id: userId, kind: 'sms', phone, label: null, confirmed_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    return toFactor(row);
  }

  async addPasskey(userId: string, passkey: NewPasskey): Promise<Factor> {
    const row = await this.db
      .insertInto('mfa_factors')
      .values({
        id: newFactorId(),
        user_id: userId,
        kind: 'passkey',
        label: passkey.label,
        credential_id: passkey.credentialId,
        public_key: Buffer.from(passkey.publicKey).toString('base64url'),
        sign_count: passkey.signCount,
        transports: passkey.transports.join(','),
        device_type: passkey.deviceType,
        backed_up: passkey.backedUp,
        confirmed_at: new Date(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toFactor(row);
  }

  async passkeyByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined> {
    const row = await this.db
      .selectFrom('mfa_factors')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .where('kind', '=', 'passkey')
      .where('confirmed_at', 'is not', null)
      .executeTakeFirst();
    return row ? toPasskey(row) : undefined;
  }

  async passkeys(userId: string): Promise<PasskeyRecord[]> {
    const rows = await this.db
      .selectFrom('mfa_factors')
      .selectAll()
      .where('user_id', '=', userId)
      .where('kind', '=', 'passkey')
      .where('confirmed_at', 'is not', null)
      .execute();
    return rows.map(toPasskey);
  }

  /**
   * After a passkey assertion: the new signature counter, unless another use raced ahead.
   * Counters that stay 0 (most synced passkeys) always pass.
   */
  async recordPasskeyUse(id: string, previousCount: number, newCount: number, backedUp: boolean): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_factors')
      .set({ sign_count: newCount, backed_up: backedUp, last_used_at: new Date() })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('sign_count', '=', previousCount), eb('sign_count', 'is', null)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async touch(id: string): Promise<void> {
    await this.db.updateTable('mfa_factors').set({ last_used_at: new Date() }).where('id', '=', id).execute();
  }

  async rename(userId: string, id: string, label: string): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_factors')
      .set({ label })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async remove(userId: string, id: string): Promise<Factor | undefined> {
    const row = await this.db
      .deleteFrom('mfa_factors')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirst();
    return row?.confirmed_at ? toFactor(row) : undefined;
  }

  /** Every factor of the user, confirmed or not (operator reset); returns how many confirmed ones went. */
  async removeAll(userId: string): Promise<number> {
    const rows = await this.db
      .deleteFrom('mfa_factors')
      .where('user_id', '=', userId)
      .returning('confirmed_at')
      .execute();
    return rows.filter((r) => r.confirmed_at).length;
  }

  private confirmedRow(userId: string, id: string) {
    return this.db
      .selectFrom('mfa_factors')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .executeTakeFirst();
  }
}

function toFactor(row: Row): Factor {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind as FactorKind,
    label: row.label,
    phone: row.phone,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
  };
}

function toPasskey(row: Row): PasskeyRecord {
  return {
    ...toFactor(row),
    credentialId: row.credential_id!,
    publicKey: new Uint8Array(Buffer.from(row.public_key ?? '', 'base64url')),
    signCount: Number(row.sign_count ?? 0),
    transports: row.transports ? row.transports.split(',').filter(Boolean) : [],
    deviceType: row.device_type,
    backedUp: row.backed_up === true,
  };
}
