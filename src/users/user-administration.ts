import { type Kysely, sql } from 'kysely';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Config } from '../config/config.ts';
import { DEFAULT_LOCALE, preferredLocale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { FactorRepository } from '../mfa/factor-repository.ts';
import { MfaNotifications } from '../mfa/mfa-notifications.ts';
import { RecoveryCodes } from '../mfa/recovery-codes.ts';
import { RememberedDevices } from '../mfa/remembered-devices.ts';
import type { Mailer } from '../notify/mailer.ts';
import { MembershipRepository } from '../organizations/memberships.ts';
import type { PasswordResetService } from '../password-reset/password-reset.ts';
import { revokeEverything } from '../sessions/revoke-everything.ts';
import type { ActiveSession, SessionDirectory } from '../sessions/session-directory.ts';
import type { SessionTerminator } from '../sessions/session-terminator.ts';
import type { Database, UserRow } from '../storage/schema.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import {
  type AdministrativeOrigin,
  type AdminUser,
  type AdminUserDetails,
  adminUserOf,
  referenceText,
  UserAdministrationError,
  type UserReference,
  versionOf,
} from './admin-user.ts';
import { isValidEmail, normalizeEmail } from './email.ts';
import { organizationsLeftWithoutAdmin } from './last-admin.ts';
import { type UserChanges, UserChangeValidator } from './user-changes.ts';
import { signInEventsOf, userDetails } from './user-details.ts';
import { searchUsers, type UserPage, type UserSearch } from './user-search.ts';
import { type NewUserInput, UserInputError, UserRepository } from './users.ts';

/** What ending sessions needs: oidc-provider's sessions, and the portals' back-channel logout. */
export interface SessionTools {
  terminator: Pick<SessionTerminator, 'endByUid' | 'endOthers'>;
  directory: Pick<SessionDirectory, 'list'>;
}

export interface UserAdministrationDependencies {
  config: Pick<Config, 'minPasswordLength' | 'productName' | 'issuer' | 'secure'>;
  db: Kysely<Database>;
  logger: Logger;
  mailer: Mailer;
  audit: AuditTrail;
  /** Called on first need: the CLI builds oidc-provider only for the commands that touch sessions. */
  sessions: () => Promise<SessionTools>;
  passwordResets: Pick<PasswordResetService, 'sendLink'>;
  /** Reads the audit log back: a user's sign-in events. */
  auditLog?: Pick<AuditLog, 'query' | 'flush'>;
  /** Where `user.created`, `user.disabled` and `user.deleted` are announced (src/webhooks). */
  webhooks?: WebhookEvents;
  now?: () => number;
}

/**
 * Users' administration: the one service the CLI, the Admin API and the operator console call,
 * so each validates and refuses alike (UserAdministrationError: nothing changed) and every change
 * is audited with its actor (`user.*` events; sessions ended are `session.ended`, factors reset
 * `mfa.reset`). Refusing a disabled user's sign-in is each method's own check of `disabled`
 * (password, passkey, Google/Microsoft, the account page) and findAccount's (refresh, userinfo,
 * an existing session): this service sets it and ends what was already open.
 */
export class UserAdministration {
  private readonly users: UserRepository;
  private readonly changes: UserChangeValidator;
  private readonly now: () => number;

  constructor(private readonly deps: UserAdministrationDependencies) {
    this.users = new UserRepository(deps.db, deps.webhooks);
    this.changes = new UserChangeValidator(deps.db, deps.config);
    this.now = deps.now ?? Date.now;
  }

  search(search: UserSearch): Promise<UserPage> {
    return searchUsers(this.deps.db, search);
  }

  async show(ref: UserReference): Promise<AdminUserDetails> {
    return userDetails(this.deps.db, await this.find(ref));
  }

  async create(input: NewUserInput, origin: AdministrativeOrigin): Promise<AdminUser> {
    const checked = this.changes.checkNewUser(input);
    if (await this.users.findByEmail(checked.email)) {
      throw new UserAdministrationError('conflict', `a user with email ${checked.email} already exists`, 'email');
    }
    let user: UserRow;
    try {
      user = await this.users.create({ ...checked, source: origin.via === 'api' ? 'admin_api' : 'operator' });
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      const exists = /already exists/.test(error.message);
      throw new UserAdministrationError(exists ? 'conflict' : 'invalid', error.message, exists ? 'email' : undefined);
    }
    this.record('user.created', user.id, origin, {
      email_verified: user.email_verified,
      // Not `has_password`: the audit log drops keys that look like a secret's.
      sign_in_methods: input.password ? ['pwd'] : [],
    });
    return adminUserOf(user);
  }

  /**
   * Name, email, phone and their verified flags; only what is given changes. With
   * `expectedVersion` (versionOf, an ETag), refused as stale once the user changed since.
   */
  async update(
    ref: UserReference,
    changes: UserChanges,
    origin: AdministrativeOrigin,
    expectedVersion?: string,
  ): Promise<AdminUser> {
    const user = await this.find(ref);
    const stale = () => new UserAdministrationError('stale', 'the user changed since it was read: read it again');
    if (expectedVersion !== undefined && expectedVersion !== versionOf(user)) throw stale();
    const { set, summary } = await this.changes.check(user, changes);
    if (!Object.keys(summary).length) return adminUserOf(user);
    const at = new Date(Math.max(this.now(), user.updated_at.getTime() + 1));
    const updated = await this.deps.db
      .updateTable('users')
      .set({ ...set, updated_at: at })
      .where('id', '=', user.id)
      // Unchanged since read (to the millisecond a Date holds): of two concurrent updates, the second finds no row.
      .where(sql<Date>`date_trunc('milliseconds', updated_at)`, '=', user.updated_at)
      .returningAll()
      .executeTakeFirst()
      .catch((error: unknown) => {
        // Another account took that email between the check and the update.
        if (String((error as { code?: string }).code) === '23505') {
          throw new UserAdministrationError('conflict', 'another user has that email', 'email');
        }
        throw error;
      });
    if (!updated) throw stale();
    this.record('user.updated', user.id, origin, { changes: summary });
    return adminUserOf(updated);
  }

  /**
   * Disables the account: no sign-in by any method from now on; every session ends, its portals
   * told by back-channel logout; every grant goes with its refresh and access tokens. Disabling a
   * disabled account changes nothing.
   */
  async disable(ref: UserReference, origin: AdministrativeOrigin) {
    const user = await this.find(ref);
    if (user.disabled) return { user: adminUserOf(user), changed: false, sessionsEnded: 0 };
    const at = new Date(this.now());
    // First, so that a sign-in under way while sessions end is refused at its next step.
    const disabled = await this.deps.db
      .updateTable('users')
      .set({ disabled: true, disabled_at: at, updated_at: at })
      .where('id', '=', user.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.deps.webhooks?.emit('user.disabled', { user_id: user.id });
    const sessionsEnded = await this.endEverySession(user.id, origin);
    const tokensRevoked = await revokeEverything(this.deps.db, user.id);
    this.record('user.disabled', user.id, origin, { sessions_ended: sessionsEnded, revoked_rows: tokensRevoked });
    return { user: adminUserOf(disabled), changed: true, sessionsEnded };
  }

  /** Lets the account sign in again; nothing ended while disabled comes back. */
  async enable(ref: UserReference, origin: AdministrativeOrigin) {
    const user = await this.find(ref);
    if (!user.disabled) return { user: adminUserOf(user), changed: false };
    const enabled = await this.deps.db
      .updateTable('users')
      .set({ disabled: false, disabled_at: null, updated_at: new Date(this.now()) })
      .where('id', '=', user.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    this.record('user.enabled', user.id, origin, {});
    return { user: adminUserOf(enabled), changed: true };
  }

  /**
   * Deletes the account with everything of it: sessions (ended, portals told), grants and tokens,
   * factors, recovery codes, linked identities, memberships and pending account links (the
   * foreign keys cascade). Refused while it is the only admin of an active organization.
   */
  async remove(ref: UserReference, origin: AdministrativeOrigin) {
    const user = await this.find(ref);
    const now = new Date(this.now());
    this.refuseLastAdmin(user, await organizationsLeftWithoutAdmin(this.deps.db, user.id, now));
    const memberships = (await new MembershipRepository(this.deps.db).ofUser(user.id)).length;
    const sessionsEnded = await this.endEverySession(user.id, origin);
    const tokensRevoked = await this.deps.db.transaction().execute(async (trx) => {
      // Checked again with the organizations locked: an admin removed meanwhile elsewhere counts.
      this.refuseLastAdmin(user, await organizationsLeftWithoutAdmin(trx, user.id, now, true));
      const revoked = await revokeEverything(trx, user.id);
      await trx.deleteFrom('organization_grants').where('account_id', '=', user.id).execute();
      await trx.deleteFrom('session_activity').where('account_id', '=', user.id).execute();
      // Their last sign-in at each company (the metrics' running total; migration 0023).
      await trx.deleteFrom('organization_member_sign_ins').where('user_id', '=', user.id).execute();
      await trx.deleteFrom('users').where('id', '=', user.id).execute();
      await this.deps.webhooks?.emit('user.deleted', { user_id: user.id }, trx);
      return revoked;
    });
    this.record('user.deleted', user.id, origin, {
      email: user.email,
      sessions_ended: sessionsEnded,
      revoked_rows: tokensRevoked,
      memberships,
    });
    return { user: adminUserOf(user), sessionsEnded, tokensRevoked, memberships };
  }

  /**
   * For a person who lost every factor and their recovery codes: factors, codes and remembered
   * devices go, so the next sign-in asks only the password (or enrollment, where a portal
   * requires a factor); they are told by email.
   */
  async resetFactors(ref: UserReference, origin: AdministrativeOrigin) {
    const user = await this.find(ref);
    const { db, config, mailer, logger, audit } = this.deps;
    const factorsRemoved = await new FactorRepository(db).removeAll(user.id);
    await new RecoveryCodes(db).removeAll(user.id);
    await new RememberedDevices(db, config.secure).forgetAll(user.id);
    const notifications = new MfaNotifications({ mailer, issuer: config.issuer, logger, audit });
    const locale = preferredLocale(user.locale, DEFAULT_LOCALE);
    await notifications.factorChanged(user, 'reset', locale, undefined, {
      actor: origin.actor,
      ip: origin.ip,
      userAgent: origin.userAgent,
    });
    return { user: adminUserOf(user), factorsRemoved };
  }

  /** The user's live browser sessions, as /account/sessions lists them. */
  async sessions(ref: UserReference): Promise<ActiveSession[]> {
    const user = await this.find(ref);
    return (await this.deps.sessions()).directory.list(user.id);
  }

  /** Ends one session (by its uid) or all of them; the portals hear it by back-channel logout. */
  async endSessions(ref: UserReference, origin: AdministrativeOrigin, sessionUid?: string): Promise<number> {
    const user = await this.find(ref);
    if (sessionUid === undefined) return this.endEverySession(user.id, origin);
    const { terminator } = await this.deps.sessions();
    if (!(await terminator.endByUid(user.id, sessionUid, 'ended_by_administrator', origin.actor))) {
      throw new UserAdministrationError('not_found', `no session ${sessionUid} of that user`, 'session');
    }
    return 1;
  }

  /**
   * The user's sign-ins, successful and refused, newest first from the audit log (method, portal,
   * reason, IP address, user agent), with its cursor; `limit` 1 to 200, default 50.
   */
  async signInEvents(ref: UserReference, page: { limit?: number | undefined; cursor?: string | undefined } = {}) {
    const user = await this.find(ref);
    if (!this.deps.auditLog) throw new Error('users administration without an audit log reader');
    return signInEventsOf(this.deps.auditLog, user.id, page);
  }

  /** Emails a password-reset link (older links stop working); refused for a disabled account. */
  async sendPasswordReset(ref: UserReference, origin: AdministrativeOrigin): Promise<AdminUser> {
    const user = await this.find(ref);
    if (!(await this.deps.passwordResets.sendLink(user, DEFAULT_LOCALE))) {
      throw new UserAdministrationError('conflict', 'the account is disabled: enable it before sending a reset link');
    }
    this.record('user.password_reset_sent', user.id, origin, {});
    return adminUserOf(user);
  }

  private async find(ref: UserReference): Promise<UserRow> {
    if ('email' in ref && !isValidEmail(normalizeEmail(ref.email))) {
      throw new UserAdministrationError('invalid', `"${ref.email}" is not a valid email address`, 'email');
    }
    const user = 'id' in ref ? await this.users.findById(ref.id) : await this.users.findByEmail(ref.email);
    if (!user) throw new UserAdministrationError('not_found', `no user with ${referenceText(ref)}`);
    return user;
  }

  private async endEverySession(userId: string, origin: AdministrativeOrigin): Promise<number> {
    const { terminator } = await this.deps.sessions();
    return terminator.endOthers(userId, undefined, 'ended_by_administrator', origin.actor);
  }

  private refuseLastAdmin(user: UserRow, organizations: Array<{ id: string; name: string }>): void {
    if (!organizations.length) return;
    const names = organizations.map((o) => `"${o.name}" (${o.id})`).join(', ');
    throw new UserAdministrationError(
      'conflict',
      `${user.email} is the only admin of ${names}: make another member admin first, or remove the organization`,
    );
  }

  private record(type: string, userId: string, origin: AdministrativeOrigin, data: Record<string, unknown>): void {
    this.deps.logger.info(
      { event: type, userId, via: origin.via, actor: origin.actor },
      type.replace('user.', 'user '),
    );
    this.deps.audit.record({
      type,
      actor: origin.actor,
      subjectUserId: userId,
      ip: origin.ip,
      userAgent: origin.userAgent,
      data: { via: origin.via, ...data },
    });
  }
}
