import { translator } from '../i18n/i18n.ts';
import { postalCodeRefusal, taxIdRefusal, taxIdWarning } from './company-messages.ts';
import { OrganizationInputError, PostalCodeError, TaxIdError } from './organization-errors.ts';
import { checkPostalCode } from './postal-codes.ts';
import { checkTaxId } from './tax-ids.ts';

/**
 * The checks of a company's tax id and postal code as the organizations model applies them when
 * storing: the value to store, or a refusal (a TaxIdError or PostalCodeError carrying the reason
 * code pages translate, with the English message the CLI prints).
 */

const english = translator('en');

/** The tax id to store, compact, and its warning if any. A tax id needs a country: it is checked against it. */
export function requireTaxId(country: string | null, value: string): { taxId: string; warning?: string } {
  if (!country) {
    throw new OrganizationInputError('a tax id needs the company’s country (--country): it is checked against it');
  }
  const check = checkTaxId(country, value);
  if (!check.valid) throw new TaxIdError(country, check.reason, taxIdRefusal(english, country, check.reason));
  return check.warning
    ? { taxId: check.taxId, warning: taxIdWarning(english, country, check.warning) }
    : { taxId: check.taxId };
}

/** The postal code to store for the country (any format when there is none). */
export function requirePostalCode(country: string | null, value: string): string {
  const check = checkPostalCode(country, value);
  if (!check.valid) throw new PostalCodeError(country, check.reason, postalCodeRefusal(english, country, check.reason));
  return check.postalCode;
}
