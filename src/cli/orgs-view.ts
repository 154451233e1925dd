import { jsonArray } from '../organizations/json-array.ts';
import type { Member } from '../organizations/memberships.ts';
import { organizationStatus } from '../organizations/organization-status.ts';
import type { Organization } from '../organizations/organizations.ts';
import { formatTaxId, taxIdName } from '../organizations/tax-ids.ts';
import type { OrganizationInvitationRow } from '../storage/schema.ts';
import { isoOrDash, table } from './orgs-support.ts';

/** What every change prints: the organization as scripts find it again. */
export function summary(org: Organization, now: Date) {
  return { id: org.row.id, slug: org.row.slug, status: organizationStatus(org.row, now) };
}

/** One organization in `orgs list --json`. */
export function listed(org: Organization, now: Date) {
  return {
    ...summary(org, now),
    name: org.row.name,
    activates_at: new Date(org.row.activates_at).toISOString(),
    ends_at: org.row.ends_at ? new Date(org.row.ends_at).toISOString() : null,
  };
}

export function listText(orgs: Organization[], now: Date): string {
  if (!orgs.length) return 'No organizations yet (umbral orgs add --name NAME).\n';
  return table([
    ['SLUG', 'STATUS', 'ACTIVATES AT', 'ENDS AT', 'NAME'],
    ...orgs.map((org) => [
      org.row.slug,
      organizationStatus(org.row, now),
      isoOrDash(org.row.activates_at),
      isoOrDash(org.row.ends_at),
      org.row.name,
    ]),
  ]);
}

export function memberJson(member: Member) {
  return {
    email: member.email,
    name: member.name,
    roles: member.roles,
    joined_at: new Date(member.joinedAt).toISOString(),
    invited_by: member.invitedBy,
  };
}

export function invitationJson(invitation: OrganizationInvitationRow) {
  return {
    email: invitation.email,
    roles: jsonArray(invitation.roles),
    designates_admin: invitation.designates_admin,
    expires_at: new Date(invitation.expires_at).toISOString(),
    // Waiting: invited while the company is scheduled; mailed (with its link) at the activation.
    mailed: invitation.token_hash !== null,
    times_sent: invitation.times_sent,
    last_sent_at: invitation.last_sent_at ? new Date(invitation.last_sent_at).toISOString() : null,
  };
}

export interface OrganizationDetail {
  org: Organization;
  members: Member[];
  invitations: OrganizationInvitationRow[];
  seatsTaken: number;
}

/** `orgs show --json`: status, dates, policy, bindings, members with roles, pending invitations. */
export function detailJson({ org, members, invitations, seatsTaken }: OrganizationDetail, now: Date) {
  const row = org.row;
  return {
    ...listed(org, now),
    country: row.country,
    // As stored (compact, what org_tax_id carries), and as the country writes it.
    tax_id: row.tax_id,
    tax_id_formatted: row.tax_id === null ? null : formatTaxId(row.country, row.tax_id),
    legal_name: row.legal_name,
    employees: row.employee_band,
    segment: row.segment,
    address: {
      line: row.address_line,
      number: row.address_number,
      complement: row.address_complement,
      postal_code: row.postal_code,
    },
    seat_limit: row.seat_limit,
    seats_taken: seatsTaken,
    home_client_id: row.home_client_id,
    logo_uri: row.logo_uri,
    policy: { require_mfa: row.require_mfa, single_session: row.single_session, sign_in_methods: org.signInMethods },
    microsoft_tenants: org.microsoftTenants,
    google_domains: org.googleDomains,
    suspended_at: row.suspended_at ? new Date(row.suspended_at).toISOString() : null,
    welcomed_at: row.welcomed_at ? new Date(row.welcomed_at).toISOString() : null,
    end_warned_at: row.end_warned_at ? new Date(row.end_warned_at).toISOString() : null,
    ended_at: row.ended_at ? new Date(row.ended_at).toISOString() : null,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
    members: members.map(memberJson),
    pending_invitations: invitations.map(invitationJson),
  };
}

export function detailText(detail: OrganizationDetail, now: Date): string {
  const { org, members, invitations, seatsTaken } = detail;
  const row = org.row;
  const yesNo = (value: boolean) => (value ? 'yes' : 'no');
  const lines = table([
    ['name', row.name],
    ['slug', row.slug],
    ['id', row.id],
    ['status', organizationStatus(row, now)],
    ['country', row.country ?? '—'],
    ['tax id', row.tax_id === null ? '—' : taxIdText(row.country, row.tax_id)],
    ['legal name', row.legal_name ?? '—'],
    ['employees', row.employee_band ?? '—'],
    ['segment', row.segment ?? '—'],
    ['address', addressText(row)],
    ['postal code', row.postal_code ?? '—'],
    ['activates at', isoOrDash(row.activates_at)],
    ['ends at', isoOrDash(row.ends_at)],
    ['seats', `${seatsTaken} taken${row.seat_limit === null ? ', no limit' : ` of ${row.seat_limit}`}`],
    ['home client', row.home_client_id ?? '—'],
    ['logo', row.logo_uri ?? '—'],
    ['require MFA', yesNo(row.require_mfa)],
    ['single session', yesNo(row.single_session)],
    ['sign-in methods', org.signInMethods.join(', ')],
    ['Microsoft tenants', org.microsoftTenants.join(', ') || '—'],
    ['Google domains', org.googleDomains.join(', ') || '—'],
    ['suspended at', isoOrDash(row.suspended_at)],
    ['welcomed at', isoOrDash(row.welcomed_at)],
    ['end warned at', isoOrDash(row.end_warned_at)],
    ['ended at', isoOrDash(row.ended_at)],
  ]);
  return `${lines}\nMembers (${members.length})\n${membersText(members, '  ')}\nPending invitations (${invitations.length})\n${invitationsText(invitations, '  ')}`;
}

/** "CUIT 30-50001091-2" where the country's id is checked, else the tax id as typed. */
function taxIdText(country: string | null, taxId: string): string {
  const name = taxIdName(country);
  return name ? `${name} ${formatTaxId(country, taxId)}` : taxId;
}

function addressText(row: Organization['row']): string {
  const street = [row.address_line, row.address_number].filter(Boolean).join(' ');
  return [street, row.address_complement].filter(Boolean).join(', ') || '—';
}

export function membersText(members: Member[], indent = ''): string {
  if (!members.length) return `${indent}none\n`;
  return table(
    members.map((m) => [
      `${indent}${m.email}`,
      m.name ?? '—',
      m.roles.join(','),
      `joined ${new Date(m.joinedAt).toISOString()}`,
    ]),
  );
}

function invitationsText(invitations: OrganizationInvitationRow[], indent: string): string {
  if (!invitations.length) return `${indent}none\n`;
  return table(
    invitations.map((i) => [
      `${indent}${i.email}`,
      jsonArray(i.roles).join(','),
      `expires ${new Date(i.expires_at).toISOString()}`,
      i.token_hash === null ? 'waiting for the activation' : `mailed ${i.times_sent}×`,
    ]),
  );
}
