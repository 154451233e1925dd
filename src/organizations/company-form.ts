import type { Locale, Translate } from '../i18n/i18n.ts';
import type { OrganizationRow } from '../storage/schema.ts';
import { COMPANY_TEXT_LIMITS, EMPLOYEE_BANDS, type EmployeeBand } from './company-input.ts';
import { postalCodeRefusal, taxIdRefusal, taxIdWarning } from './company-messages.ts';
import { countryCode, countryCodes } from './countries.ts';
import type { OrganizationFields } from './organization-input.ts';
import { checkPostalCode } from './postal-codes.ts';
import { checkTaxId, formatTaxId, TAX_ID_COUNTRIES, taxIdName } from './tax-ids.ts';

/**
 * The company form (views/partials/company-fields.ejs): the company step's, and the console's
 * /org/company. Every field is checked at once and each refusal is given in the reader's language
 * next to its field; nothing is stored here. The tax id and postal code are checked against the
 * country chosen (src/organizations/tax-ids.ts, postal-codes.ts); an RFC whose check digit does
 * not match is only a warning, which the person confirms by sending the form again unchanged.
 */

/** The form's field names, as posted. */
export const COMPANY_FIELD_NAMES = [
  'country',
  'legal_name',
  'tax_id',
  'employees',
  'segment',
  'postal_code',
  'address_line',
  'address_number',
  'address_complement',
] as const;
export type CompanyFieldName = (typeof COMPANY_FIELD_NAMES)[number];

/** What was typed, as typed (shown back on a refusal), plus the tax id whose warning was shown. */
export type CompanyFormValues = Record<CompanyFieldName, string> & { confirmed_tax_id: string };

/** The values to store, checked. */
export interface CompanyData {
  country: string;
  legalName: string;
  /** Compact (30500010912), as stored. */
  taxId: string;
  employeeBand: EmployeeBand;
  segment: string;
  postalCode: string;
  addressLine: string;
  addressNumber: string;
  addressComplement: string | null;
}

export type CompanyFormResult =
  | { ok: true; company: CompanyData }
  | {
      ok: false;
      errors: Partial<Record<CompanyFieldName, string>>;
      /** Accepted but to confirm: the RFC check digit. */
      warnings: Partial<Record<CompanyFieldName, string>>;
      /** With a tax id warning: the compact id that, sent back as `confirmed_tax_id`, confirms it. */
      confirmTaxId?: string;
    };

/** Longest value kept from any field: beyond it the field is refused anyway. */
const MAX_TYPED = 400;

/** Reads the posted body: strings only (a repeated or missing field reads as empty), cut at a bound. */
export function companyFormValues(body: unknown): CompanyFormValues {
  const source = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const read = (name: string) => {
    const value = source[name];
    return typeof value === 'string' ? value.slice(0, MAX_TYPED) : '';
  };
  const values = Object.fromEntries(COMPANY_FIELD_NAMES.map((name) => [name, read(name)])) as CompanyFormValues;
  values.confirmed_tax_id = read('confirmed_tax_id');
  return values;
}

export function emptyCompanyFormValues(): CompanyFormValues {
  return companyFormValues({});
}

/** The form filled with what an organization holds (the console's /org/company), its tax id as the country writes it. */
export function companyFormValuesOf(row: OrganizationRow): CompanyFormValues {
  return {
    country: row.country ?? '',
    legal_name: row.legal_name ?? '',
    tax_id: row.tax_id ? formatTaxId(row.country, row.tax_id) : '',
    employees: row.employee_band ?? '',
    segment: row.segment ?? '',
    postal_code: row.postal_code ?? '',
    address_line: row.address_line ?? '',
    address_number: row.address_number ?? '',
    address_complement: row.address_complement ?? '',
    confirmed_tax_id: '',
  };
}

/**
 * The checked data as OrganizationRepository's fields, for `create` or `update` (which check the
 * tax id again and refuse one registered to another organization with TaxIdTakenError).
 */
export function organizationFieldsOf(company: CompanyData): OrganizationFields {
  return {
    country: company.country,
    taxId: company.taxId,
    legalName: company.legalName,
    employeeBand: company.employeeBand,
    segment: company.segment,
    postalCode: company.postalCode,
    addressLine: company.addressLine,
    addressNumber: company.addressNumber,
    addressComplement: company.addressComplement,
  };
}

/** Checks every field; `segments` is the deployment's COMPANY_SEGMENTS. */
export function checkCompanyForm(
  values: CompanyFormValues,
  segments: readonly string[],
  t: Translate,
): CompanyFormResult {
  const errors: Partial<Record<CompanyFieldName, string>> = {};
  const warnings: Partial<Record<CompanyFieldName, string>> = {};
  const country = values.country.trim() ? countryCode(values.country) : undefined;
  if (!country)
    errors.country = t(values.country.trim() ? 'company_form.country.unknown' : 'company_form.country.empty');

  const legalName = freeText(values.legal_name, COMPANY_TEXT_LIMITS.legalName, true, t);
  if (!legalName.ok) errors.legal_name = legalName.message;

  let taxId: string | undefined;
  let confirmTaxId: string | undefined;
  if (!country) {
    if (!values.tax_id.trim()) errors.tax_id = t('company_form.tax_id.empty');
  } else {
    const check = checkTaxId(country, values.tax_id);
    if (!check.valid) errors.tax_id = taxIdRefusal(t, country, check.reason);
    else {
      taxId = check.taxId;
      // Shown once; sending the same id again (the hidden field carries it) accepts it.
      if (check.warning && values.confirmed_tax_id !== check.taxId) {
        warnings.tax_id = taxIdWarning(t, country, check.warning);
        confirmTaxId = check.taxId;
      }
    }
  }

  const band = values.employees.trim();
  if (!(EMPLOYEE_BANDS as readonly string[]).includes(band)) errors.employees = t('company_form.employees.empty');
  const segment = values.segment.trim().toLowerCase();
  if (!segments.includes(segment)) errors.segment = t('company_form.segment.empty');

  let postalCode: string | undefined;
  if (country) {
    const check = checkPostalCode(country, values.postal_code);
    if (check.valid) postalCode = check.postalCode;
    else errors.postal_code = postalCodeRefusal(t, country, check.reason);
  } else if (!values.postal_code.trim()) {
    errors.postal_code = postalCodeRefusal(t, null, 'empty');
  }

  const addressLine = freeText(values.address_line, COMPANY_TEXT_LIMITS.addressLine, true, t);
  if (!addressLine.ok) errors.address_line = addressLine.message;
  const addressNumber = freeText(values.address_number, COMPANY_TEXT_LIMITS.addressNumber, true, t);
  if (!addressNumber.ok) errors.address_number = addressNumber.message;
  const complement = freeText(values.address_complement, COMPANY_TEXT_LIMITS.addressComplement, false, t);
  if (!complement.ok) errors.address_complement = complement.message;

  const refused = { ok: false as const, errors, warnings, ...(confirmTaxId ? { confirmTaxId } : {}) };
  if (Object.keys(errors).length || Object.keys(warnings).length || !country || !taxId || !postalCode) return refused;
  if (!legalName.ok || !addressLine.ok || !addressNumber.ok || !complement.ok) return refused;
  return {
    ok: true,
    company: {
      country,
      legalName: legalName.value,
      taxId,
      employeeBand: band as EmployeeBand,
      segment,
      postalCode,
      addressLine: addressLine.value,
      addressNumber: addressNumber.value,
      addressComplement: complement.value || null,
    },
  };
}

type TextCheck = { ok: true; value: string } | { ok: false; message: string };

/**
 * A free-text field: spaces collapsed; refused empty (when required), too long, with a control
 * character, or with < or > (markup has no place in a company's name or address, and refusing it
 * says so instead of storing what a later page or email would show escaped).
 */
function freeText(value: string, max: number, required: boolean, t: Translate): TextCheck {
  const text = value.trim().replace(/\s+/g, ' ');
  if (!text) return required ? { ok: false, message: t('company_form.text.empty') } : { ok: true, value: '' };
  if (text.length > max) return { ok: false, message: t('company_form.text.too_long', { max }) };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f]/.test(text)) return { ok: false, message: t('company_form.text.control') };
  if (/[<>]/.test(text)) return { ok: false, message: t('company_form.text.markup') };
  return { ok: true, value: text };
}

export interface CompanyFormOptions {
  /** The eight countries whose tax ids are validated, then every other, each by its name in the reader's language. */
  countries: { checked: Array<{ code: string; name: string }>; others: Array<{ code: string; name: string }> };
  bands: Array<{ value: string; label: string }>;
  segments: Array<{ value: string; label: string }>;
  /** What each checked country calls its tax id, for the field's hint: { AR: 'CUIT', … }. */
  taxIdNames: Record<string, string>;
}

const optionsCache = new Map<string, CompanyFormOptions>();

/** The select lists of the form, in the reader's language. */
export function companyFormOptions(locale: Locale, segments: readonly string[], t: Translate): CompanyFormOptions {
  const key = `${locale}|${segments.join(',')}`;
  let options = optionsCache.get(key);
  if (!options) {
    const names = new Intl.DisplayNames([locale], { type: 'region' });
    const collator = new Intl.Collator(locale);
    const named = (code: string) => ({ code, name: names.of(code) ?? code });
    const byName = (a: { name: string }, b: { name: string }) => collator.compare(a.name, b.name);
    const checked = new Set<string>(TAX_ID_COUNTRIES);
    options = {
      countries: {
        checked: TAX_ID_COUNTRIES.map(named).sort(byName),
        others: countryCodes()
          .filter((code) => !checked.has(code))
          .map(named)
          .sort(byName),
      },
      bands: EMPLOYEE_BANDS.map((band) => ({ value: band, label: t(`company.employees.${band}`) })),
      segments: segments.map((segment) => ({ value: segment, label: segmentLabel(segment, t) })),
      taxIdNames: Object.fromEntries(TAX_ID_COUNTRIES.map((code) => [code, taxIdName(code)!])),
    };
    optionsCache.set(key, options);
  }
  return options;
}

/** An operator's own segment (COMPANY_SEGMENTS) has no message: its identifier is its name. */
function segmentLabel(segment: string, t: Translate): string {
  try {
    return t(`company.segment.${segment}`);
  } catch {
    return segment;
  }
}
