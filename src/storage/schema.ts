import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

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
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  last_login_at: Date | null;
  terms_version: string | null;
  terms_accepted_at: Date | null;
  locale: string | null;
  password_changed_at: Date | null;
}

export interface AccountTokenTable {
  id: string;
  user_id: string;
  /** verify_email | reset_password | change_email */
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

export interface Database {
  oidc_models: OidcModelTable;
  clients: ClientTable;
  signing_keys: SigningKeyTable;
  cookie_keys: CookieKeyTable;
  users: UserTable;
  throttle: ThrottleTable;
  account_tokens: AccountTokenTable;
  mail_queue: MailQueueTable;
}

export type UserRow = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type MailQueueRow = Selectable<MailQueueTable>;
