import type { Translate } from '../i18n/i18n.ts';
import { MAX_POSTAL_CODE_LENGTH, POSTAL_CODE_COUNTRIES } from './postal-codes.ts';
import { isTaxIdCountry, MAX_TAX_ID_LENGTH, type TaxIdReason, type TaxIdWarning, taxIdName } from './tax-ids.ts';

/** "El CUIT no es válido: el dígito verificador no coincide", in the page's language. */
export function taxIdRefusal(t: Translate, country: string, reason: TaxIdReason): string {
  const name = taxIdName(country) ?? t('company.tax_id.generic_name');
  const why =
    reason === 'length' && isTaxIdCountry(country)
      ? t(`company.tax_id.reason.length.${country}`)
      : t(`company.tax_id.reason.${reason}`, { max: MAX_TAX_ID_LENGTH });
  return t('company.tax_id.invalid', { name, reason: why });
}

/** What an accepted tax id's warning says (an RFC whose check digit does not match). */
export function taxIdWarning(t: Translate, country: string, _warning: TaxIdWarning): string {
  return t('company.tax_id.warning.check_digit', { name: taxIdName(country) ?? t('company.tax_id.generic_name') });
}

/** "El código postal no es válido: en Argentina es el CPA (como C1425DKF) o 4 dígitos". */
export function postalCodeRefusal(t: Translate, country: string | null, reason: 'empty' | 'format'): string {
  const why =
    reason === 'empty'
      ? t('company.postal_code.reason.empty')
      : POSTAL_CODE_COUNTRIES.includes(country ?? '')
        ? t(`company.postal_code.reason.${country}`)
        : t('company.postal_code.reason.other', { max: MAX_POSTAL_CODE_LENGTH });
  return t('company.postal_code.invalid', { reason: why });
}
