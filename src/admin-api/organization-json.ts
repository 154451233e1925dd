import { jsonArray } from '../organizations/json-array.ts';
import type { Member } from '../organizations/memberships.ts';
import {
  OrganizationInputError,
  PostalCodeError,
  TaxIdError,
  TaxIdTakenError,
} from '../organizations/organization-errors.ts';
import { OrganizationRefusal } from '../organizations/organization-refusal.ts';
import { organizationStatus } from '../organizations/organization-status.ts';
import type { Organization } from '../organizations/organizations.ts';
import type { OrganizationInvitationRow } from '../storage/schema.ts';
import { etagOf } from './etag.ts';
import { Problem } from './problem.ts';
import { z } from './zod.ts';

export const OrganizationSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(['scheduled', 'active', 'suspended', 'ended']),
    country: z.string().nullable(),
    tax_id: z.string().nullable(),
    legal_name: z.string().nullable(),
    employee_band: z.string().nullable(),
    segment: z.string().nullable(),
    postal_code: z.string().nullable(),
    address_line: z.string().nullable(),
    address_number: z.string().nullable(),
    address_complement: z.string().nullable(),
    activates_at: z.string(),
    ends_at: z.string().nullable(),
    seat_limit: z.number().int().nullable(),
    home_client_id: z.string().nullable(),
    logo_uri: z.string().nullable(),
    require_mfa: z.boolean(),
    single_session: z.boolean(),
    sign_in_methods: z.array(z.string()),
    microsoft_tenants: z.array(z.string()),
    google_domains: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Organization');

export const MemberSchema = z
  .object({
    user_id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    roles: z.array(z.string()),
    joined_at: z.string(),
    invited_by: z.string().nullable(),
  })
  .openapi('OrganizationMember');

export const InvitationSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    roles: z.array(z.string()),
    designates_admin: z.boolean(),
    expires_at: z.string(),
    mailed: z.boolean().openapi({ description: 'False while the company is scheduled: mailed at its activation.' }),
  })
  .openapi('OrganizationInvitation');

export const OrganizationParams = z.object({ organization_id: z.string().min(1).max(100) });

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export function organizationJson(org: Organization, now: Date) {
  const { row } = org;
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    status: organizationStatus(row, now),
    country: row.country,
    tax_id: row.tax_id,
    legal_name: row.legal_name,
    employee_band: row.employee_band,
    segment: row.segment,
    postal_code: row.postal_code,
    address_line: row.address_line,
    address_number: row.address_number,
    address_complement: row.address_complement,
    activates_at: iso(row.activates_at)!,
    ends_at: iso(row.ends_at),
    seat_limit: row.seat_limit,
    home_client_id: row.home_client_id,
    logo_uri: row.logo_uri,
    require_mfa: row.require_mfa,
    single_session: row.single_session,
    sign_in_methods: org.signInMethods,
    microsoft_tenants: org.microsoftTenants,
    google_domains: org.googleDomains,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}

/** An organization's version: its row and bindings, hashed. */
export function organizationEtag(org: Organization): string {
  return etagOf([org.row, org.signInMethods, org.microsoftTenants, org.googleDomains]);
}

export function memberJson(member: Member) {
  return {
    user_id: member.userId,
    email: member.email,
    name: member.name,
    roles: member.roles,
    joined_at: new Date(member.joinedAt).toISOString(),
    invited_by: member.invitedBy,
  };
}

export function invitationJson(invitation: OrganizationInvitationRow) {
  return {
    id: invitation.id,
    email: invitation.email,
    roles: jsonArray(invitation.roles),
    designates_admin: invitation.designates_admin,
    expires_at: new Date(invitation.expires_at).toISOString(),
    mailed: invitation.token_hash !== null,
  };
}

/**
 * The organizations model's refusals (nothing changed) as problems: a taken slug, tax id or
 * binding is a conflict; otherwise a validation problem naming the field at fault when it can be
 * told (the tax id, the slug, the contract's end), else `field`.
 */
export async function asOrganizationProblem<T>(work: () => Promise<T>, field?: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof OrganizationInputError)) throw error;
    if (error instanceof OrganizationRefusal) throw refusalProblem(error);
    if (
      error instanceof TaxIdTakenError ||
      error.reason === 'org_suspended' ||
      error.reason === 'org_ended' ||
      /already exists|already bound|already a member|is already/.test(error.message)
    ) {
      throw new Problem('conflict', error.message);
    }
    const at =
      error instanceof TaxIdError
        ? 'tax_id'
        : /slug/.test(error.message)
          ? 'slug'
          : error instanceof PostalCodeError
            ? 'postal_code'
            : /contract must end/.test(error.message)
              ? 'ends_at'
              : field;
    throw at ? Problem.field('body', `/${at}`, error.message) : new Problem('validation', error.message);
  }
}

/**
 * The organization administration's refusal: a clash with the current state is a conflict, a
 * value refused a validation problem; either names the body field at fault, when there is one.
 */
export function refusalProblem(refusal: OrganizationRefusal): Problem {
  const errors =
    refusal.field === 'organization'
      ? undefined
      : [{ in: 'body' as const, pointer: `/${refusal.field}`, detail: refusal.message }];
  return new Problem(refusal.conflict ? 'conflict' : 'validation', refusal.message, errors ? { errors } : {});
}

/** A parser of src/organizations run on one body field: its refusal names the field. */
export function parsedField<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof OrganizationInputError) throw Problem.field('body', `/${field}`, error.message);
    throw error;
  }
}
