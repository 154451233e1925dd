import {
  COMPANY_TEXT_LIMITS,
  parseCompanyText,
  parseEmployeeBand,
  parseSegment,
} from '../organizations/company-input.ts';
import { parseAdmins } from '../organizations/organization-change-checks.ts';
import {
  type OrganizationFields,
  parseCountry,
  parseGoogleDomain,
  parseLogoUri,
  parseMicrosoftTenant,
  parseSeatLimit,
  parseSignInMethod,
  parseTaxId,
} from '../organizations/organization-input.ts';
import { parsedField } from './organization-json.ts';
import { z } from './zod.ts';

/** An organization's fields as the API names them; src/organizations' own parsers judge the values. */
const fields = {
  name: z.string().min(1).max(200),
  slug: z.string().min(1).max(63),
  country: z.string().length(2).nullable(),
  tax_id: z.string().min(1).max(40).nullable(),
  legal_name: z.string().min(1).max(COMPANY_TEXT_LIMITS.legalName).nullable(),
  employee_band: z.string().min(1).max(20).nullable().openapi({ example: '11-50' }),
  segment: z
    .string()
    .min(1)
    .max(60)
    .nullable()
    .openapi({ description: 'One of the deployment\u2019s COMPANY_SEGMENTS.' }),
  postal_code: z.string().min(1).max(20).nullable(),
  address_line: z.string().min(1).max(COMPANY_TEXT_LIMITS.addressLine).nullable(),
  address_number: z.string().min(1).max(COMPANY_TEXT_LIMITS.addressNumber).nullable(),
  address_complement: z.string().min(1).max(COMPANY_TEXT_LIMITS.addressComplement).nullable(),
  ends_at: z.iso.datetime({ offset: true }).nullable(),
  seat_limit: z.number().int().min(1).max(1_000_000).nullable(),
  home_client_id: z.string().min(1).max(128).nullable(),
  logo_uri: z
    .string()
    .min(1)
    .max(2048)
    .nullable()
    .openapi({ description: 'Its own logo on its sign-in pages (https).' }),
  activates_at: z.iso.datetime({ offset: true }).openapi({
    description: 'Now when not given at creation. Moving it moves the waiting invitations with it.',
  }),
  admins: z.array(z.string().min(3).max(254)).max(100).openapi({
    description:
      'Designated admins: each invited with the admin role (a seat each), mailed the welcome at once while the organization is active, else at its activation.',
  }),
  require_mfa: z.boolean(),
  single_session: z.boolean(),
  sign_in_methods: z.array(z.string()).min(1).max(4),
  microsoft_tenants: z.array(z.string()).max(20).openapi({ description: 'Tenants (tid) whose users join it.' }),
  google_domains: z.array(z.string()).max(20).openapi({ description: 'Workspace domains (hd) whose users join it.' }),
};

type Fields = { [K in keyof typeof fields]?: z.infer<(typeof fields)[K]> | undefined };

/** The designated admins of a body, each judged as src/organizations does (the field at fault named). */
export function adminsOf(body: Fields): string[] {
  const each = (body.admins ?? []).map((value, i) => parsedField(`admins/${i}`, () => parseAdmins([value])[0]!));
  return parseAdmins(each);
}

export const OrganizationCreate = z
  .strictObject({
    ...Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, schema.optional()])),
    name: fields.name,
    slug: fields.slug.optional().openapi({ description: 'Made from the name when not given.' }),
  })
  .openapi('OrganizationCreate') as unknown as z.ZodType<Fields & { name: string }>;

export const OrganizationUpdate = z
  .strictObject(Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, schema.optional()])))
  .refine((value) => Object.keys(value).length > 0, { message: 'give at least one field to change' })
  .openapi('OrganizationUpdate') as unknown as z.ZodType<Fields>;

/** The body's fields (name and slug aside) as the model's, each judged by src/organizations' parsers. */
export function organizationFields(body: Fields, segments: readonly string[]): OrganizationFields {
  const out: OrganizationFields = {};
  const text = <T>(key: keyof Fields, parse: (value: string) => T): T | null | undefined => {
    const value = body[key] as string | null | undefined;
    if (value === undefined || value === null) return value;
    return parsedField(key, () => parse(value));
  };
  const set = <K extends keyof OrganizationFields>(key: K, value: OrganizationFields[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('country', text('country', parseCountry));
  set('taxId', text('tax_id', parseTaxId));
  set(
    'legalName',
    text('legal_name', (v) => parseCompanyText(v, 'legal_name', COMPANY_TEXT_LIMITS.legalName)),
  );
  set('employeeBand', text('employee_band', parseEmployeeBand));
  set(
    'segment',
    text('segment', (v) => parseSegment(v, segments)),
  );
  set('postalCode', body.postal_code);
  set(
    'addressLine',
    text('address_line', (v) => parseCompanyText(v, 'address_line', COMPANY_TEXT_LIMITS.addressLine)),
  );
  set(
    'addressNumber',
    text('address_number', (v) => parseCompanyText(v, 'address_number', COMPANY_TEXT_LIMITS.addressNumber)),
  );
  set(
    'addressComplement',
    text('address_complement', (v) => parseCompanyText(v, 'address_complement', COMPANY_TEXT_LIMITS.addressComplement)),
  );
  if (body.ends_at !== undefined) out.endsAt = body.ends_at === null ? null : new Date(body.ends_at);
  set(
    'seatLimit',
    body.seat_limit === null
      ? null
      : body.seat_limit === undefined
        ? undefined
        : parsedField('seat_limit', () => parseSeatLimit(body.seat_limit!)),
  );
  set('homeClientId', body.home_client_id);
  set('logoUri', text('logo_uri', parseLogoUri));
  if (body.activates_at !== undefined) out.activatesAt = new Date(body.activates_at);
  set('requireMfa', body.require_mfa);
  set('singleSession', body.single_session);
  if (body.sign_in_methods !== undefined) {
    out.signInMethods = [
      ...new Set(body.sign_in_methods.map((m, i) => parsedField(`sign_in_methods/${i}`, () => parseSignInMethod(m)))),
    ];
  }
  if (body.microsoft_tenants !== undefined) {
    out.microsoftTenants = [
      ...new Set(
        body.microsoft_tenants.map((v, i) => parsedField(`microsoft_tenants/${i}`, () => parseMicrosoftTenant(v))),
      ),
    ];
  }
  if (body.google_domains !== undefined) {
    out.googleDomains = [
      ...new Set(body.google_domains.map((v, i) => parsedField(`google_domains/${i}`, () => parseGoogleDomain(v)))),
    ];
  }
  return out;
}
