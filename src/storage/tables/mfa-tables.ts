import type { ColumnType, Generated } from 'kysely';
import type { Timestamp } from './column-types.ts';

// Second factors and their challenges.

/** A second factor (src/mfa/factor-repository.ts); counts once confirmed_at is set. */
export interface MfaFactorTable {
  id: string;
  user_id: string;
  /** totp | sms | passkey */
  kind: string;
  label: string | null;
  /** Sealed with SECRET_ENCRYPTION_KEY (src/crypto/secret-box.ts). */
  totp_secret: string | null;
  /** The last time step a code was accepted for: that code and older ones are refused. */
  totp_last_step: ColumnType<string | number | null, number | null | undefined, number | null>;
  phone: string | null;
  credential_id: string | null;
  public_key: string | null;
  sign_count: ColumnType<string | number | null, number | null | undefined, number | null>;
  transports: string | null;
  device_type: string | null;
  backed_up: boolean | null;
  confirmed_at: Date | null;
  created_at: Generated<Date>;
  last_used_at: Date | null;
}

export interface MfaRecoveryCodeTable {
  code_hash: string;
  user_id: string;
  created_at: Generated<Date>;
  used_at: Date | null;
}

export interface MfaSmsChallengeTable {
  id: string;
  user_id: string;
  /** login | enroll */
  purpose: string;
  phone: string;
  code_hash: string;
  attempts: Generated<number>;
  sends: Generated<number>;
  last_sent_at: Timestamp;
  code_expires_at: Timestamp;
  expires_at: Timestamp;
  consumed_at: Date | null;
  created_at: Generated<Date>;
}

export interface WebauthnChallengeTable {
  id: string;
  /** login | second_factor | register */
  purpose: string;
  user_id: string | null;
  challenge: string;
  expires_at: Timestamp;
}

export interface MfaRememberedDeviceTable {
  token_hash: string;
  user_id: string;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}
