import { MICROSOFT_CONSUMERS_TENANT_ID } from '../federation/federation-settings.ts';
import type { CompanyFields } from './company-input.ts';
import { countryCode } from './countries.ts';
import { OrganizationInputError } from './organization-errors.ts';

/** The sign-in methods an organization can allow its members (policy). */
export const SIGN_IN_METHODS = ['password', 'google', 'microsoft', 'passkey'] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_NAME_LENGTH = 200;
const MAX_TAX_ID_LENGTH = 40;
/** A Microsoft tenant id is a GUID; a Google Workspace domain (hd) is a DNS name. */
const TENANT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DOMAIN_PATTERN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** ISO 8601 with a date, and a time with an offset if a time is given. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * What an operator may set on an organization; every field is optional in an update. The tax id
 * (and the postal code) are as typed: the model checks them against the country and stores them
 * compact (src/organizations/company-columns.ts).
 */
export interface OrganizationFields extends CompanyFields {
  name?: string | undefined;
  slug?: string | undefined;
  country?: string | null | undefined;
  taxId?: string | null | undefined;
  activatesAt?: Date | undefined;
  endsAt?: Date | null | undefined;
  seatLimit?: number | null | undefined;
  homeClientId?: string | null | undefined;
  /** Its own logo on its flows, instead of the portal's (https; http only on a loopback host). */
  logoUri?: string | null | undefined;
  requireMfa?: boolean | undefined;
  singleSession?: boolean | undefined;
  signInMethods?: SignInMethod[] | undefined;
  microsoftTenants?: string[] | undefined;
  googleDomains?: string[] | undefined;
}

export function parseName(value: string): string {
  const name = value.trim().replace(/\s+/g, ' ');
  if (!name) throw new OrganizationInputError('the organization needs a name');
  if (name.length > MAX_NAME_LENGTH)
    throw new OrganizationInputError(`a name has at most ${MAX_NAME_LENGTH} characters`);
  return name;
}

export function parseSlug(value: string): string {
  const slug = value.trim();
  if (!SLUG_PATTERN.test(slug)) {
    throw new OrganizationInputError(
      `"${value}" is not a valid slug: lower-case letters, digits and inner hyphens, at most 63 characters`,
    );
  }
  return slug;
}

/** "Acme S.A." → "acme-s-a": accents dropped, anything else between words becomes one hyphen. */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (!slug) throw new OrganizationInputError(`no slug can be made from "${name}": give one with --slug`);
  return slug;
}

export function parseCountry(value: string): string {
  const code = countryCode(value);
  if (!code)
    throw new OrganizationInputError(`"${value}" is not an ISO 3166-1 alpha-2 country code (such as CL, MX, BR)`);
  return code;
}

export function parseTaxId(value: string): string {
  const taxId = value.trim();
  if (!taxId || taxId.length > MAX_TAX_ID_LENGTH) {
    throw new OrganizationInputError(`a tax id has 1 to ${MAX_TAX_ID_LENGTH} characters`);
  }
  return taxId;
}

/** A date-time in ISO 8601; a time without an offset is refused (it would depend on the server's zone). */
export function parseInstant(value: string, what: string): Date {
  const text = value.trim();
  const date = new Date(text);
  if (!ISO_8601.test(text) || Number.isNaN(date.getTime()) || !isCalendarDate(text.slice(0, 10))) {
    throw new OrganizationInputError(
      `${what} "${value}" is not an ISO 8601 date-time such as 2027-03-01T09:00:00-03:00`,
    );
  }
  return date;
}

/** Date would roll 2027-02-30 over to March 2: the written day must exist in its month. */
function isCalendarDate(ymd: string): boolean {
  const [year, month, day] = ymd.split('-').map(Number) as [number, number, number];
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= last;
}

export function parseSeatLimit(value: string | number): number {
  const seats = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isInteger(seats) || seats < 1 || seats > 1_000_000) {
    throw new OrganizationInputError(`a seat limit is a whole number from 1 to 1000000, not "${value}"`);
  }
  return seats;
}

export function parseSignInMethod(value: string): SignInMethod {
  const method = value.trim().toLowerCase();
  if (!(SIGN_IN_METHODS as readonly string[]).includes(method)) {
    throw new OrganizationInputError(`"${value}" is not a sign-in method: use ${SIGN_IN_METHODS.join(', ')}`);
  }
  return method as SignInMethod;
}

export function parseMicrosoftTenant(value: string): string {
  const tenant = value.trim().toLowerCase();
  if (!TENANT_ID_PATTERN.test(tenant)) {
    throw new OrganizationInputError(`"${value}" is not a Microsoft tenant id (a GUID, the tid claim)`);
  }
  // Every personal Microsoft account carries this tid: bound, anyone at all would join.
  if (tenant === MICROSOFT_CONSUMERS_TENANT_ID) {
    throw new OrganizationInputError(
      `"${value}" is Microsoft's tenant for personal accounts, shared by everyone: bind a work or school tenant`,
    );
  }
  return tenant;
}

export function parseGoogleDomain(value: string): string {
  const domain = value.trim().toLowerCase();
  if (!DOMAIN_PATTERN.test(domain)) {
    throw new OrganizationInputError(`"${value}" is not a Google Workspace domain (the hd claim, such as acme.com)`);
  }
  return domain;
}

/** The dates as they will be after an update: `ends_at` must come after `activates_at`. */
export function assertContractDates(activatesAt: Date, endsAt: Date | null): void {
  if (endsAt && endsAt <= activatesAt) {
    throw new OrganizationInputError(
      `the contract must end after it starts: ends-at ${endsAt.toISOString()} is not after activates-at ${activatesAt.toISOString()}`,
    );
  }
}

/** An organization's logo: shown by every browser on its pages, so https (http only on a loopback host). */
export function parseLogoUri(value: string): string {
  const url = URL.parse(value.trim());
  const loopback = url && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw new OrganizationInputError('--logo-uri must be an https URL (http only when the host is a loopback address)');
  }
  return url.href;
}
