import { OrganizationInputError } from './organization-errors.ts';

/** A company's size, in the bands the sign-up and the console offer. */
export const EMPLOYEE_BANDS = ['1-10', '11-50', '51-200', '201-1000', '1000+'] as const;
export type EmployeeBand = (typeof EMPLOYEE_BANDS)[number];

/** The company's data beyond its name: what `/org/company`, the company step and the CLI set. */
export interface CompanyFields {
  legalName?: string | null | undefined;
  employeeBand?: EmployeeBand | null | undefined;
  /** One of the deployment's COMPANY_SEGMENTS (checked where the configuration is known). */
  segment?: string | null | undefined;
  /** As typed; checked against the country (src/organizations/postal-codes.ts) when stored. */
  postalCode?: string | null | undefined;
  addressLine?: string | null | undefined;
  addressNumber?: string | null | undefined;
  addressComplement?: string | null | undefined;
}

export const COMPANY_TEXT_LIMITS = {
  legalName: 200,
  addressLine: 200,
  addressNumber: 20,
  addressComplement: 100,
} as const;

/** A free-text field: spaces collapsed, 1 to `max` characters, no control characters. */
export function parseCompanyText(value: string, what: string, max: number): string {
  const text = value.trim().replace(/\s+/g, ' ');
  if (!text) throw new OrganizationInputError(`${what} cannot be empty`);
  if (text.length > max) throw new OrganizationInputError(`${what} has at most ${max} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new OrganizationInputError(`${what} has a control character`);
  return text;
}

export function parseEmployeeBand(value: string): EmployeeBand {
  const band = value.trim().replace(/[\s,.]/g, '');
  if (!(EMPLOYEE_BANDS as readonly string[]).includes(band)) {
    throw new OrganizationInputError(`"${value}" is not an employee band: use ${EMPLOYEE_BANDS.join(', ')}`);
  }
  return band as EmployeeBand;
}

/** A segment of the deployment's list (COMPANY_SEGMENTS). */
export function parseSegment(value: string, segments: readonly string[]): string {
  const segment = value.trim().toLowerCase();
  if (!segments.includes(segment)) {
    throw new OrganizationInputError(`"${value}" is not a company segment: use ${segments.join(', ')}`);
  }
  return segment;
}
