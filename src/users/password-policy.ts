import { createRequire } from 'node:module';

/**
 * The one password policy, shared by sign-up, password reset, password change and the CLI
 * (NIST SP 800-63B): a length floor and ceiling, no composition rules, and a refusal of values
 * that are common, expected or derived from the account — a common password, the product's or
 * the portal's name, dressed up with case, look-alike characters (p@ssw0rd) and digits or
 * symbols around it (Qwerty2026!), and the account's email. The reason is always stated.
 */

/** The floor: operators may raise it (config.minPasswordLength), never lower it. */
export const MIN_PASSWORD_LENGTH = 8;
/** The ceiling: generous enough for passphrases and password managers, small enough to hash cheaply. */
export const MAX_PASSWORD_LENGTH = 256;
/** A local part this long or longer is refused anywhere in the password as a word (ana.perez2026). */
export const EMAIL_WORD_MIN_LENGTH = 4;

export type PasswordRefusal =
  | 'too_short'
  | 'too_long'
  | 'common'
  | 'common_variant'
  | 'contains_email'
  | 'product_name'
  | 'portal_name';

/** A type, not an interface, so it fits translators' Record<string, …> placeholders. */
export type PasswordMessageVars = {
  min: number;
  max: number;
  product: string;
  portal: string;
};

export type PasswordCheck =
  | { ok: true }
  | {
      ok: false;
      reason: PasswordRefusal;
      /** The message key (views/locales/<l>/signup.json) and its placeholders, ready for `t(key, vars)`. */
      messageKey: `password.error.${PasswordRefusal}`;
      vars: PasswordMessageVars;
    };

export interface PasswordCheckOptions {
  /** The account's email: the password may not be it, its local part, or hold the local part as a word. */
  email?: string | undefined;
  /** config.minPasswordLength; values under 8 are ignored. */
  minLength?: number | undefined;
  /** config.productName: refused as a password's base (Umbral2026). */
  productName?: string | undefined;
  /** The client_name of the portal the person is at, when known: refused as a base too. */
  portalName?: string | undefined;
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
    vars: { min, max, product: options.productName ?? '', portal: options.portalName ?? '' },
  });
  const length = passwordLength(password);
  if (length < min) return refuse('too_short');
  if (length > max) return refuse('too_long');
  const list = commonPasswords();
  if (list.has(password.toLowerCase()) || list.has(fold(password))) return refuse('common');
  const bases = passwordBases(password);
  if (isEmailDerived(password, bases, options.email)) return refuse('contains_email');
  if (nameKeys(options.productName).some((key) => bases.has(key))) return refuse('product_name');
  if (nameKeys(options.portalName).some((key) => bases.has(key))) return refuse('portal_name');
  for (const base of bases) if (list.has(base)) return refuse('common_variant');
  return { ok: true };
}

/**
 * Look-alike characters people put for letters, most likely reading first. Every occurrence is
 * read the same way in one reading, so a password has at most three readings, not 2ⁿ.
 */
const LOOK_ALIKES: Record<string, [string, string]> = {
  '0': ['o', 'o'],
  '1': ['i', 'l'],
  '!': ['i', 'l'],
  '|': ['l', 'i'],
  '2': ['z', 'z'],
  '3': ['e', 'e'],
  '4': ['a', 'a'],
  '@': ['a', 'a'],
  '5': ['s', 's'],
  $: ['s', 's'],
  '6': ['g', 'b'],
  '7': ['t', 't'],
  '+': ['t', 't'],
  '8': ['b', 'b'],
  '9': ['g', 'g'],
  '€': ['e', 'e'],
};

/** Lowercase, without accents (ñ → n, ö → o) and with compatibility forms unified (ｐ → p). */
function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

function readAs(text: string, reading: 0 | 1): string {
  return [...text].map((char) => LOOK_ALIKES[char]?.[reading] ?? char).join('');
}

/** Digits, symbols and spaces at the end (and, in the second form, also at the start) taken away. */
const trimEnd = (text: string) => text.replace(/[^\p{L}]+$/u, '');
const trimBoth = (text: string) => trimEnd(text).replace(/^[^\p{L}]+/u, '');
/** Spaces and separators inside taken away: "pass word", "pass.word" → "password". */
const squeeze = (text: string) => text.replace(/[\s._-]+/gu, '');

/**
 * What a password is "really": folded, read with and without look-alikes, with the digits and
 * symbols around it taken away, with and without the separators inside. `P@ssw0rd2026!` has
 * the base `password`. Trailing digits are taken away before reading look-alikes (so
 * `password1234567` is `password`) and after (so `hell0` is `hello`).
 */
function passwordBases(password: string): Set<string> {
  const folded = fold(password);
  const bases = new Set<string>();
  for (const start of [folded, trimEnd(folded), trimBoth(folded)]) {
    for (const read of [start, readAs(start, 0), readAs(start, 1)]) {
      const base = trimBoth(read);
      if (!base) continue;
      bases.add(base);
      bases.add(squeeze(base));
    }
  }
  return bases;
}

/** A name as a base compares: folded, without spaces; also without digits around it. Short names are ignored. */
function nameKeys(name: string | undefined): string[] {
  if (!name) return [];
  const folded = squeeze(fold(name.trim()));
  return [...new Set([folded, squeeze(trimBoth(folded))])].filter((key) => [...key].length >= 3);
}

/**
 * The email itself (alone, as the base, or anywhere inside), its local part (or the part before a "+tag") as the password or its base,
 * or a local part of EMAIL_WORD_MIN_LENGTH+ characters inside it as a word: not touching other
 * letters, in any script ("ana.perez2026" holds "ana.perez"; "mañana" does not hold "ana").
 */
function isEmailDerived(password: string, bases: Set<string>, email: string | undefined): boolean {
  if (!email) return false;
  const address = email.trim().normalize('NFC').toLowerCase();
  const typed = password.trim().normalize('NFC').toLowerCase();
  if (typed.includes(address) || bases.has(fold(address))) return true;
  const at = address.lastIndexOf('@');
  const local = at === -1 ? address : address.slice(0, at);
  for (const part of new Set([local, local.split('+')[0] ?? ''])) {
    if (!part) continue;
    if (typed === part || bases.has(fold(part)) || bases.has(squeeze(fold(part)))) return true;
    if ([...part].length >= EMAIL_WORD_MIN_LENGTH && asWord(part).test(typed)) return true;
  }
  return false;
}

function asWord(text: string): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{M}])${escaped}(?![\\p{L}\\p{M}])`, 'u');
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
