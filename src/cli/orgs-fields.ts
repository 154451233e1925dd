import { COMPANY_TEXT_LIMITS, parseCompanyText, parseEmployeeBand } from '../organizations/company-input.ts';
import {
  assertEndsInFuture as assertContractEndsInFuture,
  parseAdmins as parseAdminEmails,
} from '../organizations/organization-change-checks.ts';
import {
  type OrganizationFields,
  parseCountry,
  parseGoogleDomain,
  parseInstant,
  parseLogoUri,
  parseMicrosoftTenant,
  parseName,
  parseSeatLimit,
  parseSignInMethod,
  parseSlug,
  parseTaxId,
} from '../organizations/organization-input.ts';
import { OrganizationRefusal } from '../organizations/organization-refusal.ts';
import { CliInputError, CliUsageError } from './cli-errors.ts';
import type { ParsedOptions } from './command-options.ts';
import { parseDuration } from './duration.ts';
import { parsed } from './orgs-support.ts';

/** The organization's own fields, as `orgs add` and `orgs update` take them. */
const FIELD_OPTIONS = {
  name: { type: 'string' },
  slug: { type: 'string' },
  country: { type: 'string' },
  'tax-id': { type: 'string' },
  'legal-name': { type: 'string' },
  employees: { type: 'string' },
  segment: { type: 'string' },
  'postal-code': { type: 'string' },
  address: { type: 'string' },
  'address-number': { type: 'string' },
  'address-complement': { type: 'string' },
  'activates-at': { type: 'string' },
  'ends-at': { type: 'string' },
  admin: { type: 'string', multiple: true },
  seats: { type: 'string' },
  'home-client': { type: 'string' },
  'logo-uri': { type: 'string' },
  'require-mfa': { type: 'boolean' },
  'single-session': { type: 'boolean' },
  'sign-in-method': { type: 'string', multiple: true },
  'microsoft-tenant': { type: 'string', multiple: true },
  'google-domain': { type: 'string', multiple: true },
} as const;

const COMPANY_OPTION_LIMITS = {
  'legal-name': COMPANY_TEXT_LIMITS.legalName,
  // Long enough for any country's; the country's own format is checked when stored.
  'postal-code': 40,
  address: COMPANY_TEXT_LIMITS.addressLine,
  'address-number': COMPANY_TEXT_LIMITS.addressNumber,
  'address-complement': COMPANY_TEXT_LIMITS.addressComplement,
} as const;

export const ORG_ADD_OPTIONS = { ...FIELD_OPTIONS, name: { type: 'string', required: true } } as const;

/** `orgs update` also clears: each `--no-…` undoes its option (and refuses to come with it). */
const CLEAR_OPTIONS = {
  'no-country': 'country',
  'no-tax-id': 'tax-id',
  'no-legal-name': 'legal-name',
  'no-employees': 'employees',
  'no-segment': 'segment',
  'no-postal-code': 'postal-code',
  'no-address': 'address',
  'no-address-number': 'address-number',
  'no-address-complement': 'address-complement',
  'no-ends-at': 'ends-at',
  'no-seats': 'seats',
  'no-home-client': 'home-client',
  'no-logo-uri': 'logo-uri',
  'no-require-mfa': 'require-mfa',
  'no-single-session': 'single-session',
  'no-microsoft-tenants': 'microsoft-tenant',
  'no-google-domains': 'google-domain',
} as const;

export const ORG_UPDATE_OPTIONS = {
  org: { type: 'string', required: true },
  ...FIELD_OPTIONS,
  ...(Object.fromEntries(Object.keys(CLEAR_OPTIONS).map((name) => [name, { type: 'boolean' }])) as Record<
    keyof typeof CLEAR_OPTIONS,
    { type: 'boolean' }
  >),
} as const;

type FieldValues = ParsedOptions<typeof FIELD_OPTIONS>;
type UpdateValues = ParsedOptions<typeof ORG_UPDATE_OPTIONS>;

/** An invitation link is valid at most a month; 7 days unless told. */
export const MAX_INVITATION_SECONDS = 30 * 24 * 60 * 60;
export const DEFAULT_INVITATION_EXPIRES_IN = '7d';

export function parseExpiresIn(value: string | undefined): number {
  return parseDuration('--expires-in', value ?? DEFAULT_INVITATION_EXPIRES_IN, MAX_INVITATION_SECONDS) * 1000;
}

/**
 * Every field given, parsed; what was not given stays undefined (an update leaves it as it is).
 * The tax id and postal code are checked against the country where it is known (orgs-commands);
 * the segment against COMPANY_SEGMENTS, once the configuration is read.
 */
export function parseFields(options: FieldValues): OrganizationFields {
  const fields: OrganizationFields = {};
  if (options.name !== undefined) fields.name = parsed(() => parseName(options.name!));
  if (options.slug !== undefined) fields.slug = parsed(() => parseSlug(options.slug!));
  if (options.country !== undefined) fields.country = parsed(() => parseCountry(options.country!));
  if (options['tax-id'] !== undefined) fields.taxId = parsed(() => parseTaxId(options['tax-id']!));
  const text = (option: keyof typeof COMPANY_OPTION_LIMITS) => {
    const value = options[option];
    if (value === undefined) return undefined;
    return parsed(() => parseCompanyText(value, `--${option}`, COMPANY_OPTION_LIMITS[option]));
  };
  if (options['legal-name'] !== undefined) fields.legalName = text('legal-name');
  if (options.employees !== undefined) fields.employeeBand = parsed(() => parseEmployeeBand(options.employees!));
  if (options.segment !== undefined) fields.segment = options.segment;
  if (options['postal-code'] !== undefined) fields.postalCode = text('postal-code');
  if (options.address !== undefined) fields.addressLine = text('address');
  if (options['address-number'] !== undefined) fields.addressNumber = text('address-number');
  if (options['address-complement'] !== undefined) fields.addressComplement = text('address-complement');
  if (options['activates-at'] !== undefined) {
    fields.activatesAt = parsed(() => parseInstant(options['activates-at']!, '--activates-at'));
  }
  if (options['ends-at'] !== undefined) fields.endsAt = parsed(() => parseInstant(options['ends-at']!, '--ends-at'));
  if (options.seats !== undefined) fields.seatLimit = parsed(() => parseSeatLimit(options.seats!));
  if (options['home-client'] !== undefined) {
    const client = options['home-client'].trim();
    if (!client) throw new CliInputError('--home-client needs a client id');
    fields.homeClientId = client;
  }
  if (options['logo-uri'] !== undefined) fields.logoUri = parsed(() => parseLogoUri(options['logo-uri']!));
  if (options['require-mfa']) fields.requireMfa = true;
  if (options['single-session']) fields.singleSession = true;
  if (options['sign-in-method'].length) {
    fields.signInMethods = [...new Set(options['sign-in-method'].map((m) => parsed(() => parseSignInMethod(m))))];
  }
  if (options['microsoft-tenant'].length) {
    fields.microsoftTenants = [
      ...new Set(options['microsoft-tenant'].map((v) => parsed(() => parseMicrosoftTenant(v)))),
    ];
  }
  if (options['google-domain'].length) {
    fields.googleDomains = [...new Set(options['google-domain'].map((v) => parsed(() => parseGoogleDomain(v))))];
  }
  return fields;
}

/** The fields of an update: as `parseFields`, plus what the `--no-…` options clear. */
export function parseUpdateFields(options: UpdateValues): OrganizationFields {
  for (const [clear, option] of Object.entries(CLEAR_OPTIONS)) {
    const given = options[option as keyof UpdateValues];
    if (options[clear as keyof typeof CLEAR_OPTIONS] && (Array.isArray(given) ? given.length > 0 : given)) {
      throw new CliUsageError(`give either --${option} or --${clear}, not both`);
    }
  }
  const fields = parseFields(options);
  if (options['no-country']) fields.country = null;
  if (options['no-tax-id']) fields.taxId = null;
  if (options['no-legal-name']) fields.legalName = null;
  if (options['no-employees']) fields.employeeBand = null;
  if (options['no-segment']) fields.segment = null;
  if (options['no-postal-code']) fields.postalCode = null;
  if (options['no-address']) fields.addressLine = null;
  if (options['no-address-number']) fields.addressNumber = null;
  if (options['no-address-complement']) fields.addressComplement = null;
  if (options['no-ends-at']) fields.endsAt = null;
  if (options['no-seats']) fields.seatLimit = null;
  if (options['no-home-client']) fields.homeClientId = null;
  if (options['no-logo-uri']) fields.logoUri = null;
  if (options['no-require-mfa']) fields.requireMfa = false;
  if (options['no-single-session']) fields.singleSession = false;
  if (options['no-microsoft-tenants']) fields.microsoftTenants = [];
  if (options['no-google-domains']) fields.googleDomains = [];
  return fields;
}

/** The `--admin` addresses: each valid, once (case aside), as src/organizations takes them. */
export function parseAdmins(values: string[]): string[] {
  try {
    return parseAdminEmails(values);
  } catch (error) {
    if (error instanceof OrganizationRefusal) throw new CliInputError(`--admin ${error.message}`);
    throw error;
  }
}

/**
 * The service's own rule (a contract cannot end before now), checked before the database is
 * opened, in the CLI's words: `orgs suspend` stops a company at once.
 */
export function assertEndsInFuture(endsAt: Date | null | undefined, now: Date): void {
  try {
    assertContractEndsInFuture(endsAt, now);
  } catch (error) {
    if (!(error instanceof OrganizationRefusal)) throw error;
    throw new CliInputError(
      `--ends-at ${endsAt!.toISOString()} is in the past: to stop an organization now, use umbral orgs suspend`,
    );
  }
}
