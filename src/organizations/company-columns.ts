import type { OrganizationTable } from '../storage/schema.ts';
import { requirePostalCode, requireTaxId } from './company-checks.ts';
import { OrganizationInputError } from './organization-errors.ts';
import type { OrganizationFields } from './organization-input.ts';

export type CompanyColumns = Partial<
  Pick<
    OrganizationTable,
    | 'tax_id'
    | 'legal_name'
    | 'employee_band'
    | 'segment'
    | 'postal_code'
    | 'address_line'
    | 'address_number'
    | 'address_complement'
  >
>;

/** What an organization holds now, of what its country's checks depend on (none when creating it). */
export interface StoredCompany {
  country: string | null;
  tax_id: string | null;
  postal_code: string | null;
}

/**
 * The company columns an insert or update sets, each given field checked against the country
 * the organization will have. A new country checks again the tax id and postal code already
 * stored (they may not be that country's), unless the same change gives or clears them.
 */
export function companyColumns(fields: OrganizationFields, stored?: StoredCompany): CompanyColumns {
  const country = fields.country !== undefined ? fields.country : (stored?.country ?? null);
  const countryChanged = stored !== undefined && fields.country !== undefined && fields.country !== stored.country;
  const columns: CompanyColumns = {};
  if (fields.taxId !== undefined) {
    columns.tax_id = fields.taxId === null ? null : requireTaxId(country, fields.taxId).taxId;
  } else if (countryChanged && stored.tax_id !== null) {
    columns.tax_id = again('tax id', stored.tax_id, () => requireTaxId(country, stored.tax_id!).taxId);
  }
  if (fields.postalCode !== undefined) {
    columns.postal_code = fields.postalCode === null ? null : requirePostalCode(country, fields.postalCode);
  } else if (countryChanged && stored.postal_code !== null) {
    columns.postal_code = again('postal code', stored.postal_code, () =>
      requirePostalCode(country, stored.postal_code!),
    );
  }
  if (fields.legalName !== undefined) columns.legal_name = fields.legalName;
  if (fields.employeeBand !== undefined) columns.employee_band = fields.employeeBand;
  if (fields.segment !== undefined) columns.segment = fields.segment;
  if (fields.addressLine !== undefined) columns.address_line = fields.addressLine;
  if (fields.addressNumber !== undefined) columns.address_number = fields.addressNumber;
  if (fields.addressComplement !== undefined) columns.address_complement = fields.addressComplement;
  return columns;
}

/** A stored value checked against a new country: its refusal says which value and what to do. */
function again<T>(what: 'tax id' | 'postal code', value: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof OrganizationInputError)) throw error;
    const option = what === 'tax id' ? 'tax-id' : 'postal-code';
    error.message = `${error.message} (the stored ${what} ${value}, checked against the new country: give a new --${option} or --no-${option} with it)`;
    throw error;
  }
}
