import type { Generated } from 'kysely';
import type { Json, Timestamp } from './column-types.ts';

// People: their accounts, the links mailed to them, and what guards their passwords.

export interface UserTable {
  id: string;
  email: string;
  email_verified: Generated<boolean>;
  name: string | null;
  phone: string | null;
  phone_verified: Generated<boolean>;
  password_hash: string | null;
  disabled: Generated<boolean>;
  /** When an operator disabled the account (src/users/user-administration.ts); null while enabled. */
  disabled_at: Generated<Date | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_login_at: Date | null;
  terms_version: string | null;
  terms_accepted_at: Date | null;
  locale: string | null;
  password_changed_at: Date | null;
  /** IANA time zone for the times shown to the person (src/users/time-zone.ts); null until known. */
  time_zone: string | null;
}

export interface AccountTokenTable {
  id: string;
  user_id: string;
  /** verify_email | signup_decoy | reset_password | change_email | unlock_login (src/users/account-tokens.ts) */
  purpose: string;
  token_hash: string;
  code_hash: string | null;
  attempts: Generated<number>;
  data: Json | null;
  created_at: Generated<Date>;
  expires_at: Date;
  code_expires_at: Date | null;
  consumed_at: Date | null;
}

export interface ThrottleTable {
  key: string;
  failures: number;
  last_failure_at: Timestamp;
  expires_at: Timestamp;
}

/** Consecutive wrong passwords of one account (src/throttling/account-lockout.ts); no row means none. */
export interface LoginLockoutTable {
  user_id: string;
  failures: number;
  last_failure_at: Timestamp;
  /** When this lock's unlock link was mailed: at most one per lock (and again once it expired). */
  unlock_mailed_at: Date | null;
}
