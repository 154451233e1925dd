// Each country's module alone (stdnum has no exports map; these are its published files): its index
// loads every country it knows, a third of a second at every start.
import * as cuit from 'stdnum/lib/cjs/ar/cuit.js';
import * as cnpj from 'stdnum/lib/cjs/br/cnpj.js';
import * as rut from 'stdnum/lib/cjs/cl/rut.js';
import * as nit from 'stdnum/lib/cjs/co/nit.js';
import * as ecRuc from 'stdnum/lib/cjs/ec/ruc.js';
import * as rfc from 'stdnum/lib/cjs/mx/rfc.js';
import * as peRuc from 'stdnum/lib/cjs/pe/ruc.js';
import * as uyRut from 'stdnum/lib/cjs/uy/rut.js';

/**
 * Companies' tax ids by country, checked with their check digits by stdnum (python-stdnum's
 * port): Argentina's CUIT/CUIL, Brazil's CNPJ (the alphanumeric CNPJ issued since July 2026
 * included: stdnum 1.12 values letters at their ASCII code minus 48, as the Receita Federal's
 * algorithm does), Chile's RUT, Colombia's NIT, Ecuador's and Peru's RUC, Uruguay's RUT and
 * Mexico's RFC. A tax id of any other country is kept as typed, trimmed, without a check.
 *
 * Every id is stored compact (no separators, upper case: `30500010912`) and shown in the
 * country's usual format (`30-50001091-2`).
 */

export const TAX_ID_COUNTRIES = ['AR', 'BR', 'CL', 'CO', 'EC', 'MX', 'PE', 'UY'] as const;
export type TaxIdCountry = (typeof TAX_ID_COUNTRIES)[number];

/** Why a tax id is refused; the words are in views/locales/<locale>/organizations-company.json. */
export type TaxIdReason =
  /** Nothing but spaces. */
  | 'empty'
  /** Longer than MAX_TAX_ID_LENGTH (the countries without a check). */
  | 'too_long'
  /** Not the country's number of characters. */
  | 'length'
  /** A character the country's ids never have (a letter in a CUIT). */
  | 'characters'
  /** The right characters in an impossible arrangement: an unknown CUIT prefix, a date that does not exist in an RFC. */
  | 'structure'
  /** Well formed, but its check digit is not the one its other digits give. */
  | 'check_digit';

/** Accepted, but worth a second look: an RFC whose check digit does not match (some real ones do not). */
export type TaxIdWarning = 'check_digit';

export type TaxIdCheck =
  | { valid: true; taxId: string; checked: boolean; warning?: TaxIdWarning }
  | { valid: false; reason: TaxIdReason };

export const MAX_TAX_ID_LENGTH = 40;

interface CountryRule {
  /** What the country calls it, in every language: the CUIT, the CNPJ… */
  name: string;
  validator: Validator;
  /** Display: stdnum's format, unless the country writes it without separators. */
  format(compact: string): string;
  /** Refused check digits that are only a warning (Mexico's RFC). */
  checkDigitIsWarning?: boolean;
  /** The lengths the country allows, where stdnum allows more (an RFC without its homoclave). */
  lengths?: number[];
}

/** What a stdnum module does. */
interface Validator {
  compact(value: string): string;
  format(value: string): string;
  validate(value: string): { isValid: boolean; error?: Error | undefined };
}

const rule = (name: string, validator: Validator, extra: Partial<CountryRule> = {}): CountryRule => ({
  name,
  validator,
  format: (compact) => validator.format(compact),
  ...extra,
});
const written = (compact: string) => compact;

const RULES: Record<TaxIdCountry, CountryRule> = {
  AR: rule('CUIT', cuit),
  BR: rule('CNPJ', cnpj),
  CL: rule('RUT', rut),
  CO: rule('NIT', nit, { format: formatNit }),
  // The SRI writes a RUC as its 13 digits.
  EC: rule('RUC', ecRuc, { format: written }),
  // The SAT writes an RFC without separators; a check digit that does not match is only a warning.
  MX: rule('RFC', rfc, { format: written, checkDigitIsWarning: true, lengths: [12, 13] }),
  PE: rule('RUC', peRuc, { format: written }),
  UY: rule('RUT', uyRut),
};

export function isTaxIdCountry(country: string | null | undefined): country is TaxIdCountry {
  return (TAX_ID_COUNTRIES as readonly string[]).includes(country ?? '');
}

/** What the country calls its companies' tax id (CUIT, CNPJ…), or undefined where it is not checked. */
export function taxIdName(country: string | null | undefined): string | undefined {
  return isTaxIdCountry(country) ? RULES[country].name : undefined;
}

/**
 * Checks a tax id as typed for the company's country (ISO 3166-1 alpha-2, upper case):
 * the compact form to store, or the reason it is refused.
 */
export function checkTaxId(country: string, value: string): TaxIdCheck {
  const trimmed = value.trim();
  if (!trimmed) return { valid: false, reason: 'empty' };
  if (!isTaxIdCountry(country)) {
    return trimmed.length > MAX_TAX_ID_LENGTH
      ? { valid: false, reason: 'too_long' }
      : { valid: true, taxId: trimmed, checked: false };
  }
  // Dots, dashes, slashes and spaces are only how people write them (76.086.428-5, 12.ABC.345/01DE-35).
  const cleaned = trimmed.replace(/[\s./-]/g, '').toUpperCase();
  if (cleaned.length > MAX_TAX_ID_LENGTH) return { valid: false, reason: 'length' };
  const own = RULES[country];
  const result = own.validator.validate(cleaned);
  // stdnum's `compact` (not validate's: Ecuador's answers with the cédula inside a person's RUC).
  const compact = () => own.validator.compact(cleaned);
  if (result.isValid) {
    if (own.lengths && !own.lengths.includes(compact().length)) return { valid: false, reason: 'length' };
    return { valid: true, taxId: compact(), checked: true };
  }
  const reason = reasonOf(result.error);
  if (reason === 'check_digit' && own.checkDigitIsWarning) {
    return { valid: true, taxId: compact(), checked: true, warning: 'check_digit' };
  }
  return { valid: false, reason };
}

/** A stored (compact) tax id as the country writes it: 30-50001091-2, 12.ABC.345/01DE-35, 76.086.428-5. */
export function formatTaxId(country: string | null | undefined, taxId: string): string {
  return isTaxIdCountry(country) ? RULES[country].format(taxId) : taxId;
}

function reasonOf(error: Error | undefined): TaxIdReason {
  switch (error?.name) {
    case 'InvalidLength':
      return 'length';
    case 'InvalidChecksum':
      return 'check_digit';
    case 'InvalidComponent':
      return 'structure';
    default:
      return 'characters';
  }
}

/** Colombia: the NIT's digits in thousands, then its check digit: 900.544.472-2, 12.345.678-9. */
function formatNit(compact: string): string {
  const body = compact.slice(0, -1).replace(/\B(?=(\d{3})+$)/g, '.');
  return `${body}-${compact.slice(-1)}`;
}
