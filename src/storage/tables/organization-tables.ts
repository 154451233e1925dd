import type { ColumnType, Generated } from 'kysely';
import type { Json, Timestamp } from './column-types.ts';

// Companies: roles, organizations, memberships, invitations, grants, sign-in events and summaries.

/** A role template every organization uses (src/organizations/roles.ts); admin and member are built in. */
export interface RoleTable {
  name: string;
  description: string | null;
  permissions: Json<string[]>;
  built_in: Generated<boolean>;
  created_at: Generated<Date>;
}

/** A company (src/organizations); its status is derived from the dates and the operator's hold. */
export interface OrganizationTable {
  id: string;
  slug: string;
  name: string;
  /** ISO 3166-1 alpha-2. */
  country: string | null;
  /** Compact (30500010912), checked against `country`; unique per country. */
  tax_id: string | null;
  legal_name: string | null;
  /** 1-10, 11-50, 51-200, 201-1000 or 1000+. */
  employee_band: string | null;
  /** One of COMPANY_SEGMENTS when it was set. */
  segment: string | null;
  /** As the country writes it (C1425DKF, 01310-100), checked against `country`. */
  postal_code: string | null;
  address_line: string | null;
  address_number: string | null;
  address_complement: string | null;
  activates_at: Timestamp;
  ends_at: Timestamp | null;
  seat_limit: number | null;
  /** A client id: where members land after accepting an invitation. */
  home_client_id: string | null;
  /** Its own logo (https), shown instead of the portal's on sign-ins for it (src/http/page-branding.ts). */
  logo_uri: string | null;
  require_mfa: Generated<boolean>;
  single_session: Generated<boolean>;
  /** Of password, google, microsoft, passkey. */
  sign_in_methods: Json<string[]>;
  /** The operator's hold (suspend); cleared by resume. */
  suspended_at: Date | null;
  /** When the activation was carried out: the designated admins were mailed. */
  welcomed_at: Date | null;
  end_warned_at: Date | null;
  /** When the end was carried out: members' sessions at organization portals ended. */
  ended_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** A Microsoft tenant (tid) or Google Workspace domain (hd) whose users join the organization. */
export interface OrganizationUpstreamBindingTable {
  provider: 'microsoft' | 'google';
  value: string;
  organization_id: string;
}

export interface OrganizationMembershipTable {
  organization_id: string;
  user_id: string;
  roles: Json<string[]>;
  joined_at: Generated<Date>;
  /** Set when the member was removed; the row stays as history and a new join clears it. */
  removed_at: Date | null;
  /** Who brought them in: an invitation's inviter, `operator`, or `microsoft:<tid>` / `google:<hd>`. */
  invited_by: string | null;
}

export interface OrganizationInvitationTable {
  id: string;
  organization_id: string;
  email: string;
  roles: Json<string[]>;
  /** SHA-256 of the link's token; null until the first mail (a scheduled company's admins). */
  token_hash: string | null;
  expires_at: Timestamp;
  /** pending | accepted | revoked | expired */
  status: Generated<string>;
  times_sent: Generated<number>;
  last_sent_at: Date | null;
  invited_by: string | null;
  designates_admin: Generated<boolean>;
  accepted_by: string | null;
  accepted_at: Date | null;
  created_at: Generated<Date>;
}

/** The organization an oidc-provider grant (one session at one portal) is for (src/organizations/organization-grants.ts). */
export interface OrganizationGrantTable {
  grant_id: string;
  /** Null: the authorization is for no organization. */
  organization_id: string | null;
  account_id: string;
  client_id: string;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

/** A completed sign-in (src/organizations/sign-in-events.ts); `id` is a bigint, read as a string. */
export interface SignInEventTable {
  id: Generated<string>;
  user_id: string;
  organization_id: string | null;
  client_id: string;
  /** password | passkey | google | microsoft */
  method: string;
  occurred_at: Timestamp;
}

/** Sign-ins per organization, UTC day and method (kept by a trigger on sign_in_events; migration 0023). */
export interface OrganizationSignInDayTable {
  organization_id: string;
  day: Timestamp;
  method: string;
  sign_ins: number;
}

/** A person's last sign-in at an organization's portals (kept by a trigger on sign_in_events). */
export interface OrganizationMemberSignInTable {
  organization_id: string;
  user_id: string;
  last_at: Timestamp;
}

/** An admin who turned the weekly summary of an organization off. */
export interface WeeklySummaryOptOutTable {
  organization_id: string;
  user_id: string;
  created_at: Generated<Date>;
}

/** The week (its Monday, UTC) an organization's weekly summary was sent. */
export interface WeeklySummaryRunTable {
  organization_id: string;
  /** YYYY-MM-DD on the way in (a date: no time zone to shift it). */
  week_start: ColumnType<Date | string, string, string>;
  sent_at: Timestamp;
  recipients: number;
}

/** What became of each address of one batch of invitations (src/org-console/invitation-batches.ts). */
export interface OrganizationInvitationBatchTable {
  id: string;
  organization_id: string;
  /** The admin's user id. */
  created_by: string;
  outcome: Json<{ invited: string[]; members: string[]; refused: Array<{ email: string; reason: string }> }>;
  created_at: Generated<Date>;
}

/** Someone gave a registered company's tax id at the company step; its admins were mailed at `requested_at`. */
export interface OrganizationJoinRequestTable {
  organization_id: string;
  user_id: string;
  client_id: string;
  requested_at: Timestamp;
}
