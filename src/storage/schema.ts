import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = Record<string, unknown>> = ColumnType<T, string, string>;

/** One row per oidc-provider model instance (sessions, grants, codes, tokens, interactions…). */
export interface OidcModelTable {
  model: string;
  id: string;
  payload: Json;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  /** Whose session, grant or token it is (revoking everything of one user). */
  account_id: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
  /** A rotated refresh token's sealed token response, kept for the reuse grace only. */
  rotation_response: string | null;
}

/** Relying parties registered by operators; `metadata` is oidc-provider client metadata. */
export interface ClientTable {
  client_id: string;
  metadata: Json;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  private_jwk: Json;
  created_at: Generated<Date>;
  /** Set when a newer key of the same alg takes over signing. */
  retired_at: Date | null;
  /** After this the key is no longer published: every token it signed has expired. */
  unpublish_at: Date | null;
}

export interface CookieKeyTable {
  id: string;
  secret: string;
  created_at: Generated<Date>;
}

export interface UserTable {
  id: string;
  email: string;
  email_verified: Generated<boolean>;
  name: string | null;
  phone: string | null;
  phone_verified: Generated<boolean>;
  password_hash: string | null;
  disabled: Generated<boolean>;
  /** When an operator disabled the account (src/users/user-administration.ts); null while enabled. */
  disabled_at: Generated<Date | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_login_at: Date | null;
  terms_version: string | null;
  terms_accepted_at: Date | null;
  locale: string | null;
  password_changed_at: Date | null;
  /** IANA time zone for the times shown to the person (src/users/time-zone.ts); null until known. */
  time_zone: string | null;
}

export interface AccountTokenTable {
  id: string;
  user_id: string;
  /** verify_email | signup_decoy | reset_password | change_email | unlock_login (src/users/account-tokens.ts) */
  purpose: string;
  token_hash: string;
  code_hash: string | null;
  attempts: Generated<number>;
  data: Json | null;
  created_at: Generated<Date>;
  expires_at: Date;
  code_expires_at: Date | null;
  consumed_at: Date | null;
}

export interface ThrottleTable {
  key: string;
  failures: number;
  last_failure_at: Timestamp;
  expires_at: Timestamp;
}

/** Consecutive wrong passwords of one account (src/throttling/account-lockout.ts); no row means none. */
export interface LoginLockoutTable {
  user_id: string;
  failures: number;
  last_failure_at: Timestamp;
  /** When this lock's unlock link was mailed: at most one per lock (and again once it expired). */
  unlock_mailed_at: Date | null;
}

/** Outgoing email (see src/notify/mail-queue.ts). */
export interface MailQueueTable {
  id: string;
  to_address: string;
  template: string;
  locale: string;
  data: Json<Record<string, string | number | boolean | null>>;
  /** pending | sending | sent | failed */
  status: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
  created_at: Generated<Date>;
  sent_at: Date | null;
  /** Rendered copy, kept only by the dev outbox. */
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
}

/** Device and address of a browser session (src/sessions/session-activity.ts). */
export interface SessionActivityTable {
  session_uid: string;
  account_id: string;
  user_agent: string | null;
  ip: string | null;
  created_at: Generated<Date>;
  last_seen_at: Timestamp;
}

/** Sessions ended for a reason their browser is told on its next visit. */
export interface EndedSessionTable {
  cookie_hash: string;
  reason: string;
  expires_at: Timestamp;
}

/** An upstream account that signs in as a local user (src/federation/federated-identities.ts). */
export interface FederatedIdentityTable {
  id: string;
  user_id: string;
  provider: string;
  /** Google: the issuer; Microsoft: the tenant id (tid). */
  realm: string;
  /** Google: sub; Microsoft: the object id (oid). */
  subject: string;
  email: string | null;
  email_verified: Generated<boolean>;
  name: string | null;
  last_amr: Json<string[]> | null;
  last_acr: string | null;
  created_at: Generated<Date>;
  last_login_at: Date | null;
}

/** An upstream sign-in in progress (src/federation/federation-logins.ts). */
export interface FederationLoginTable {
  id: string;
  state_hash: string;
  binding_hash: string;
  provider: string;
  interaction_uid: string;
  nonce: string;
  code_verifier: string;
  /** started → exchanging (the callback claimed it) → authenticated → done */
  status: Generated<string>;
  upstream: Json | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

/** Home-realm discovery: an email domain and the provider its people sign in with. */
export interface DomainRouteTable {
  domain: string;
  provider: string;
  created_at: Generated<Date>;
}

/** A second factor (src/mfa/factor-repository.ts); counts once confirmed_at is set. */
export interface MfaFactorTable {
  id: string;
  user_id: string;
  /** totp | sms | passkey */
  kind: string;
  label: string | null;
  /** Sealed with SECRET_ENCRYPTION_KEY (src/crypto/secret-box.ts). */
  totp_secret: string | null;
  /** The last time step a code was accepted for: that code and older ones are refused. */
  totp_last_step: ColumnType<string | number | null, number | null | undefined, number | null>;
  phone: string | null;
  credential_id: string | null;
  public_key: string | null;
  sign_count: ColumnType<string | number | null, number | null | undefined, number | null>;
  transports: string | null;
  device_type: string | null;
  backed_up: boolean | null;
  confirmed_at: Date | null;
  created_at: Generated<Date>;
  last_used_at: Date | null;
}

export interface MfaRecoveryCodeTable {
  code_hash: string;
  user_id: string;
  created_at: Generated<Date>;
  used_at: Date | null;
}

export interface MfaSmsChallengeTable {
  id: string;
  user_id: string;
  /** login | enroll */
  purpose: string;
  phone: string;
  code_hash: string;
  attempts: Generated<number>;
  sends: Generated<number>;
  last_sent_at: Timestamp;
  code_expires_at: Timestamp;
  expires_at: Timestamp;
  consumed_at: Date | null;
  created_at: Generated<Date>;
}

export interface WebauthnChallengeTable {
  id: string;
  /** login | second_factor | register */
  purpose: string;
  user_id: string | null;
  challenge: string;
  expires_at: Timestamp;
}

export interface MfaRememberedDeviceTable {
  token_hash: string;
  user_id: string;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

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

/** The upstream provider (google, microsoft) a session's federated sign-in used; amr says only `fed`. */
export interface SessionUpstreamTable {
  session_uid: string;
  /** The session's loginTs when recorded: a later sign-in in the same session makes the row stale. */
  login_ts: ColumnType<string | number, number, number>;
  upstream: string;
  expires_at: Timestamp;
}

/** One security-relevant event (src/audit/audit-log.ts); `data` never holds a secret. */
export interface AuditEventTable {
  id: string;
  occurred_at: Timestamp;
  type: string;
  /** user | operator | client | system */
  actor_kind: string;
  actor_id: string | null;
  subject_user_id: string | null;
  organization_id: string | null;
  ip: string | null;
  user_agent: string | null;
  data: Json;
}

/** A person granted the operator console (src/admin-console/operators.ts). */
export interface OperatorTable {
  user_id: string;
  granted_at: Generated<Date>;
  /** The CLI operator who granted it. */
  granted_by: string | null;
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

/** An Admin API answer to a POST with an Idempotency-Key (src/admin-api/idempotency.ts), kept 24 hours. */
export interface AdminIdempotencyKeyTable {
  /** Who sent it: `client:<id>` or `user:<id>`. */
  caller: string;
  key: string;
  request_hash: string;
  /** Null while the first request is still being answered. */
  status: number | null;
  /** The answer's body, sealed with SECRET_ENCRYPTION_KEY: it may hold a secret shown once. */
  response: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

/** A registered webhook endpoint (src/webhooks). */
export interface WebhookEndpointTable {
  id: string;
  url: string;
  description: string | null;
  /** A JSON array of event types, e.g. ["user.signed_in"]. */
  event_types: Json<string[]>;
  enabled: boolean;
  /** The `whsec_…` secret, sealed with the SecretBox (context `webhook-endpoint:<id>`). */
  secret_sealed: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** One event to one endpoint; `id` is its `webhook-id`, `payload` the exact body signed. */
export interface WebhookDeliveryTable {
  id: string;
  endpoint_id: string;
  event_type: string;
  payload: string;
  /** pending | sending | delivered | failed */
  status: ColumnType<string, string | undefined, string>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  created_at: Timestamp;
  finished_at: Timestamp | null;
  last_error: string | null;
}

/** One POST of a delivery. */
export interface WebhookAttemptTable {
  delivery_id: string;
  attempt: number;
  attempted_at: Timestamp;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

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
