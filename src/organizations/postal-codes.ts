/**
 * Postal codes by country: the formats of the eight countries whose company data is validated,
 * and for any other country letters, digits, spaces and hyphens, at most MAX_POSTAL_CODE_LENGTH.
 * The accepted value is what is stored, in the country's usual writing (upper case, Brazil's
 * CEP with its hyphen). Whether the code exists is not checked: that would be an address service.
 */

export const MAX_POSTAL_CODE_LENGTH = 12;

interface PostalFormat {
  pattern: RegExp;
  /** The typed value, upper case and without spaces, as stored. */
  written?(compact: string): string;
}

const FORMATS: Record<string, PostalFormat> = {
  // The CPA (a province letter, 4 digits, 3 letters: C1425DKF) or the older 4 digits.
  AR: { pattern: /^(?:[A-HJ-NP-Z]\d{4}[A-Z]{3}|\d{4})$/ },
  // The CEP: 8 digits, written 01310-100.
  BR: { pattern: /^\d{5}-?\d{3}$/, written: (v) => `${v.replace('-', '').slice(0, 5)}-${v.replace('-', '').slice(5)}` },
  CL: { pattern: /^\d{7}$/ },
  CO: { pattern: /^\d{6}$/ },
  EC: { pattern: /^\d{6}$/ },
  MX: { pattern: /^\d{5}$/ },
  PE: { pattern: /^\d{5}$/ },
  UY: { pattern: /^\d{5}$/ },
};

export const POSTAL_CODE_COUNTRIES = Object.keys(FORMATS);

export type PostalCodeCheck = { valid: true; postalCode: string } | { valid: false; reason: 'empty' | 'format' };

/** The postal code to store for the country (ISO 3166-1 alpha-2, upper case), or why it is refused. */
export function checkPostalCode(country: string | null | undefined, value: string): PostalCodeCheck {
  const trimmed = value.trim().replace(/\s+/g, ' ');
  if (!trimmed) return { valid: false, reason: 'empty' };
  const format = FORMATS[country ?? ''];
  if (!format) {
    const other = trimmed.toUpperCase();
    return other.length <= MAX_POSTAL_CODE_LENGTH && /^[A-Z0-9](?:[A-Z0-9 -]*[A-Z0-9])?$/.test(other)
      ? { valid: true, postalCode: other }
      : { valid: false, reason: 'format' };
  }
  const compact = trimmed.replace(/ /g, '').toUpperCase();
  if (!format.pattern.test(compact)) return { valid: false, reason: 'format' };
  return { valid: true, postalCode: format.written ? format.written(compact) : compact };
}
