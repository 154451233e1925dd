import type { AuditActor } from '../audit/audit-event.ts';
import type { UserRow } from '../storage/schema.ts';

/**
 * The vocabulary of users' administration (src/users/user-administration.ts), shared by its
 * callers: the CLI, the Admin API and the operator console turn these into their own answers.
 */

/**
 * not_found: no such user (404); invalid: a value refused (400); conflict: the state forbids it
 * (409); stale: the user changed since the version the caller read (412).
 */
export type UserAdministrationProblem = 'not_found' | 'invalid' | 'conflict' | 'stale';

/** A refused administrative request: nothing was changed. `field` names the input at fault, if one is. */
export class UserAdministrationError extends Error {
  constructor(
    readonly problem: UserAdministrationProblem,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'UserAdministrationError';
  }
}

/** Who asks, through what, and from where: every change is audited with it. */
export interface AdministrativeOrigin {
  actor: AuditActor;
  via: 'cli' | 'api' | 'console';
  ip?: string | undefined;
  userAgent?: string | undefined;
}

/** A user by id or by email (case-insensitive). */
export type UserReference = { id: string } | { email: string };

/** A user as administrators see them: never the password hash, only whether there is one. */
export interface AdminUser {
  id: string;
  email: string;
  email_verified: boolean;
  name: string | null;
  phone: string | null;
  phone_verified: boolean;
  has_password: boolean;
  disabled: boolean;
  disabled_at: Date | null;
  locale: string | null;
  created_at: Date;
  updated_at: Date;
  last_login_at: Date | null;
}

/** What `show` adds: factors, linked identities, organizations and live sessions, without secrets. */
export interface AdminUserDetails extends AdminUser {
  factors: Array<{ id: string; kind: string; label: string | null; created_at: Date; last_used_at: Date | null }>;
  recovery_codes_left: number;
  identities: Array<{ provider: string; email: string | null; linked_at: Date; last_login_at: Date | null }>;
  organizations: Array<{ id: string; name: string; roles: string[] }>;
  sessions: number;
}

export function adminUserOf(row: UserRow): AdminUser {
  return {
    id: row.id,
    email: row.email,
    email_verified: row.email_verified,
    name: row.name,
    phone: row.phone,
    phone_verified: row.phone_verified,
    has_password: row.password_hash !== null,
    disabled: row.disabled,
    disabled_at: row.disabled_at,
    locale: row.locale,
    created_at: row.created_at,
    updated_at: row.updated_at,
    last_login_at: row.last_login_at,
  };
}

/** The version of a user a caller read: an update naming it is refused once the user changed since. */
export function versionOf(user: { updated_at: Date }): string {
  return String(user.updated_at.getTime());
}

export function referenceText(ref: UserReference): string {
  return 'id' in ref ? `id ${ref.id}` : `email ${ref.email}`;
}
