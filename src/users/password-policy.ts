import { createRequire } from 'node:module';

/**
 * The one password policy, shared by sign-up, password reset and password change
 * (NIST SP 800-63B): a length floor and ceiling, no composition rules, and a refusal of
 * passwords that are common or that contain the account's email. The reason is always stated.
 */

/** The floor: operators may raise it (config.minPasswordLength), never lower it. */
export const MIN_PASSWORD_LENGTH = 8;
/** The ceiling: generous enough for passphrases and password managers, small enough to hash cheaply. */
export const MAX_PASSWORD_LENGTH = 256;

export type PasswordRefusal = 'too_short' | 'too_long' | 'common' | 'contains_email';

export type PasswordCheck =
  | { ok: true }
  | {
      ok: false;
      reason: PasswordRefusal;
      /** The message key (views/locales/<l>/signup.json) and its placeholders, ready for `t(key, vars)`. */
      messageKey: `password.error.${PasswordRefusal}`;
      vars: { min: number; max: number };
    };

export interface PasswordCheckOptions {
  /** The account's email: a password containing its local part (≥ 3 characters) is refused. */
  email?: string | undefined;
  /** config.minPasswordLength; values under 8 are ignored. */
  minLength?: number | undefined;
}

/** Length in characters as people count them (code points, so an emoji is one). */
export function passwordLength(password: string): number {
  return [...password].length;
}

export function checkPassword(password: string, options: PasswordCheckOptions = {}): PasswordCheck {
  const min = Math.max(MIN_PASSWORD_LENGTH, options.minLength ?? MIN_PASSWORD_LENGTH);
  const max = MAX_PASSWORD_LENGTH;
  const refuse = (reason: PasswordRefusal): PasswordCheck => ({
    ok: false,
    reason,
    messageKey: `password.error.${reason}`,
    vars: { min, max },
  });
  const length = passwordLength(password);
  if (length < min) return refuse('too_short');
  if (length > max) return refuse('too_long');
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) return refuse('common');
  if (emailParts(options.email).some((part) => lower.includes(part))) return refuse('contains_email');
  return { ok: true };
}

/** The email's local part, and its part before a "+tag", lowercased, when at least 3 characters long. */
function emailParts(email: string | undefined): string[] {
  if (!email) return [];
  const at = email.lastIndexOf('@');
  const local = (at === -1 ? email : email.slice(0, at)).trim().toLowerCase();
  const parts = new Set([local, local.split('+')[0] ?? '']);
  return [...parts].filter((part) => [...part].length >= 3);
}

let common: Set<string> | undefined;

/** ~49k common passwords (zxcvbn-ts' list), loaded on first use and kept, lowercased. */
function commonPasswords(): Set<string> {
  if (!common) {
    const require = createRequire(import.meta.url);
    const { dictionary } = require('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]> };
    common = new Set((dictionary['passwords-common'] ?? []).map((p) => p.toLowerCase()));
  }
  return common;
}
