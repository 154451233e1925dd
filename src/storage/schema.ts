import type { Selectable } from 'kysely';
import type { DomainRouteTable, FederatedIdentityTable, FederationLoginTable } from './tables/federation-tables.ts';
import type {
  MfaFactorTable,
  MfaRecoveryCodeTable,
  MfaRememberedDeviceTable,
  MfaSmsChallengeTable,
  WebauthnChallengeTable,
} from './tables/mfa-tables.ts';
import type {
  AdminIdempotencyKeyTable,
  AuditEventTable,
  MailQueueTable,
  OperatorTable,
  WebhookAttemptTable,
  WebhookDeliveryTable,
  WebhookEndpointTable,
} from './tables/operation-tables.ts';
import type {
  OrganizationGrantTable,
  OrganizationInvitationBatchTable,
  OrganizationInvitationTable,
  OrganizationJoinRequestTable,
  OrganizationMemberSignInTable,
  OrganizationMembershipTable,
  OrganizationSignInDayTable,
  OrganizationTable,
  OrganizationUpstreamBindingTable,
  RoleTable,
  SignInEventTable,
  WeeklySummaryOptOutTable,
  WeeklySummaryRunTable,
} from './tables/organization-tables.ts';
import type { ClientTable, CookieKeyTable, OidcModelTable, SigningKeyTable } from './tables/provider-tables.ts';
import type { EndedSessionTable, SessionActivityTable, SessionUpstreamTable } from './tables/session-tables.ts';
import type { AccountTokenTable, LoginLockoutTable, ThrottleTable, UserTable } from './tables/user-tables.ts';

export type * from './tables/federation-tables.ts';
export type * from './tables/mfa-tables.ts';
export type * from './tables/operation-tables.ts';
export type * from './tables/organization-tables.ts';
export type * from './tables/provider-tables.ts';
export type * from './tables/session-tables.ts';
export type * from './tables/user-tables.ts';

// Each table's columns live with its capability under tables/; importers keep taking them from here.

/** Every table, by name, as Kysely sees it. */
export interface Database {
  oidc_models: OidcModelTable;
  clients: ClientTable;
  signing_keys: SigningKeyTable;
  cookie_keys: CookieKeyTable;
  users: UserTable;
  throttle: ThrottleTable;
  login_lockouts: LoginLockoutTable;
  account_tokens: AccountTokenTable;
  mail_queue: MailQueueTable;
  session_activity: SessionActivityTable;
  ended_sessions: EndedSessionTable;
  federated_identities: FederatedIdentityTable;
  federation_logins: FederationLoginTable;
  domain_routes: DomainRouteTable;
  mfa_factors: MfaFactorTable;
  mfa_recovery_codes: MfaRecoveryCodeTable;
  mfa_sms_challenges: MfaSmsChallengeTable;
  webauthn_challenges: WebauthnChallengeTable;
  mfa_remembered_devices: MfaRememberedDeviceTable;
  roles: RoleTable;
  organizations: OrganizationTable;
  organization_upstream_bindings: OrganizationUpstreamBindingTable;
  organization_memberships: OrganizationMembershipTable;
  organization_invitations: OrganizationInvitationTable;
  organization_grants: OrganizationGrantTable;
  session_upstreams: SessionUpstreamTable;
  audit_events: AuditEventTable;
  operators: OperatorTable;
  sign_in_events: SignInEventTable;
  organization_sign_in_days: OrganizationSignInDayTable;
  organization_member_sign_ins: OrganizationMemberSignInTable;
  weekly_summary_opt_outs: WeeklySummaryOptOutTable;
  weekly_summary_runs: WeeklySummaryRunTable;
  organization_invitation_batches: OrganizationInvitationBatchTable;
  organization_join_requests: OrganizationJoinRequestTable;
  admin_idempotency_keys: AdminIdempotencyKeyTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
}

export type UserRow = Selectable<UserTable>;
export type MailQueueRow = Selectable<MailQueueTable>;
export type OrganizationRow = Selectable<OrganizationTable>;
export type OrganizationInvitationRow = Selectable<OrganizationInvitationTable>;
