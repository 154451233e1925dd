import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { formatInstant, type Locale, preferredLocale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { enqueueQuietly, type Mailer, type OutgoingEmail } from '../notify/mailer.ts';
import type { Database, UserRow } from '../storage/schema.ts';
import { FixedWindowCounter } from '../throttling/fixed-window-counter.ts';
import { AccountTokenRepository, accountTokenData, hashOpaqueToken, newOpaqueToken } from '../users/account-tokens.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { hashPassword } from '../users/password-hasher.ts';
import { checkPassword, MAX_PASSWORD_LENGTH, type PasswordMessageVars } from '../users/password-policy.ts';
import { personTimeZone } from '../users/time-zone.ts';
import { UserRepository } from '../users/users.ts';
import { DEFAULT_PASSWORD_RESET_LIMITS, type PasswordResetLimits, resetLimitKeys } from './password-reset-limits.ts';

export const RESET_PURPOSE = 'reset_password';
/** How long a reset link works. */
export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;
/**
 * Every "forgot password" answer takes at least this long, so that the little work done only
 * for existing accounts (one insert, one queued email) cannot be told apart by timing.
 */
export const MIN_FORGOT_RESPONSE_MS = 200;

/** Stored with each reset token. */
export interface ResetTokenData {
  /** The sign-in the reset was started from, to return to it afterwards. */
  interactionUid?: string;
  /** The client_name of that sign-in's portal: the new password may not be based on it. */
  portalName?: string;
  /** That portal's client_id: the link's pages carry its branding (src/http/page-branding.ts). */
  clientId?: string;
}

export interface ValidResetToken {
  id: string;
  userId: string;
  email: string;
  data: ResetTokenData;
}

/** Reset tokens in `account_tokens` (purpose reset_password): single use, expiring, at most one live per user. */
export class PasswordResetTokens {
  private readonly tokens: AccountTokenRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = new AccountTokenRepository(db, now);
  }

  /**
   * Stores a new token for `userId`, and consumes every older unconsumed one: only the newest
   * link works. Without a user, runs the same invalidating statement against no one, so both
   * paths do comparable work.
   */
  async issue(userId: string | undefined, hash: string, data: ResetTokenData): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const tokens = new AccountTokenRepository(trx, this.now);
      await tokens.voidOutstanding(userId ?? '', RESET_PURPOSE);
      if (!userId) return;
      await tokens.insert({ userId, purpose: RESET_PURPOSE, tokenHash: hash, data, ttlMs: RESET_TOKEN_TTL_MS });
    });
  }

  /** The token's row when it is unused, unexpired and its account enabled; does not consume it. */
  async find(token: string): Promise<ValidResetToken | undefined> {
    const found = await this.tokens.findValid(token, RESET_PURPOSE);
    if (!found) return undefined;
    const { row, owner } = found;
    return { id: row.id, userId: row.user_id, email: owner.email, data: accountTokenData<ResetTokenData>(row) };
  }

  /**
   * In one transaction: consumes the token (only if still valid: a concurrent redeem loses),
   * consumes every other reset token of the user, sets the new password, and deletes every
   * session, grant, code and token of the user, which signs them out everywhere and makes
   * their refresh tokens fail. Returns the token, or undefined when it was no longer valid.
   */
  async redeem(tokenId: string, passwordHash: string): Promise<{ userId: string; data: ResetTokenData } | undefined> {
    const at = new Date(this.now());
    return this.db.transaction().execute(async (trx) => {
      const tokens = new AccountTokenRepository(trx, () => at.getTime());
      const consumed = await tokens.consume(tokenId, RESET_PURPOSE);
      if (!consumed) return undefined;
      const userId = consumed.user_id;
      await tokens.voidOutstanding(userId, RESET_PURPOSE);
      // Following the link proved control of the mailbox.
      await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, password_changed_at: at, updated_at: at, email_verified: true })
        .where('id', '=', userId)
        .execute();
      await revokeEverything(trx, userId);
      return { userId, data: accountTokenData<ResetTokenData>(consumed) };
    });
  }
}

/**
 * Deletes every oidc-provider row of the account: sessions (signed out), grants, authorization
 * codes, access and refresh tokens (revoked). oidc-provider keeps no in-memory copy of these, so
 * the next request that presents one finds nothing. Rows tied to one of the account's grants are
 * deleted too, whatever their account column says.
 */
export async function revokeEverything(db: Kysely<Database>, accountId: string): Promise<number> {
  const result = await db
    .deleteFrom('oidc_models')
    .where((eb) =>
      eb.or([
        eb('account_id', '=', accountId),
        eb(
          'grant_id',
          'in',
          eb
            .selectFrom('oidc_models as g')
            .select('g.id')
            .where('g.model', '=', 'Grant')
            .where('g.account_id', '=', accountId),
        ),
      ]),
    )
    .where('model', '!=', 'Interaction')
    .executeTakeFirst();
  // A sign-in still open for the account (a reset started from it, with prompt=login in a browser
  // that had a session) was bound to a session and grant deleted above: unbound, it goes on in
  // the browser that owns it (its interaction cookie) instead of ending in "session not found".
  await sql`
    update oidc_models set payload = payload - 'session' - 'grantId'
    where model = 'Interaction' and payload -> 'session' ->> 'accountId' = ${accountId}`.execute(db);
  return Number(result.numDeletedRows);
}

export type ForgotOutcome = { kind: 'accepted' } | { kind: 'ip_limited'; retryAfterSeconds: number };
export type LinkOutcome =
  | { kind: 'valid'; email: string; clientId: string | undefined }
  | { kind: 'invalid' }
  | { kind: 'limited'; retryAfterSeconds: number };
export type ResetError = 'mismatch' | 'policy' | 'required';
export type ResetOutcome =
  | { kind: 'changed'; interactionUid: string | undefined }
  | {
      kind: 'rejected';
      clientId: string | undefined;
      email: string;
      error: ResetError;
      policy?: { messageKey: string; vars: PasswordMessageVars };
    }
  | { kind: 'invalid' }
  | { kind: 'limited'; retryAfterSeconds: number };

export interface PasswordResetDependencies {
  config: Config;
  db: Kysely<Database>;
  mailer: Mailer;
  logger: Logger;
  limits?: PasswordResetLimits;
  now?: () => number;
  /**
   * Ends the user's sessions with back-channel logout to their portals, before the reset deletes
   * what is left of them; without it the portals only notice when their tokens stop working.
   */
  endSessions?: (accountId: string) => Promise<unknown>;
  /** A reset proves the mailbox: it lifts a lock on the password sign-in (src/throttling/account-lockout.ts). */
  lockout?: { reset(accountId: string): Promise<void> };
  /** The audit log: completed resets. */
  audit?: AuditTrail;
}

/**
 * The "forgot password" journey: request a link by email, open it, choose a new password.
 *
 * A reset never signs anyone in: it ends on the login page (or a notice), where the new password
 * goes through the normal login, and with it every later step (MFA, once it exists). So a reset
 * cannot bypass MFA; it only replaces the password factor.
 */
export class PasswordResetService {
  readonly tokens: PasswordResetTokens;
  private readonly users: UserRepository;
  private readonly counter: FixedWindowCounter;
  private readonly limits: PasswordResetLimits;

  constructor(private readonly deps: PasswordResetDependencies) {
    const now = deps.now ?? Date.now;
    this.tokens = new PasswordResetTokens(deps.db, now);
    this.users = new UserRepository(deps.db);
    this.counter = new FixedWindowCounter(deps.db, now);
    this.limits = deps.limits ?? DEFAULT_PASSWORD_RESET_LIMITS;
  }

  /** Links always start from ISSUER: never from the request's Host header. */
  resetUrl(token: string): string {
    return `${this.deps.config.issuer}/password/reset?token=${encodeURIComponent(token)}`;
  }

  /**
   * Emails a reset link when `email` names an enabled account and its limit allows. The outcome
   * never says whether that happened: known and unknown emails get the same answer, after the
   * same work and no sooner than MIN_FORGOT_RESPONSE_MS.
   */
  async requestReset(input: {
    email: string;
    ip: string;
    locale: Locale;
    interactionUid?: string | undefined;
    portalName?: string | undefined;
    clientId?: string | undefined;
  }): Promise<ForgotOutcome> {
    const started = performance.now();
    const ipCount = await this.counter.hit(resetLimitKeys.forgotIp(input.ip), this.limits.forgotPerIp.windowMs);
    if (ipCount.count > this.limits.forgotPerIp.limit) {
      this.deps.logger.info({ event: 'password_reset.ip_limited' }, 'password reset requests limited for this address');
      return { kind: 'ip_limited', retryAfterSeconds: ipCount.retryAfterSeconds };
    }
    const email = normalizeEmail(input.email);
    if (isValidEmail(email)) {
      const accountCount = await this.counter.hit(
        resetLimitKeys.forgotAccount(email),
        this.limits.forgotPerAccount.windowMs,
      );
      const withinLimit = accountCount.count <= this.limits.forgotPerAccount.limit;
      const user = await this.users.findByEmail(email);
      const recipient = user && !user.disabled && withinLimit ? user : undefined;
      const token = newOpaqueToken();
      const data: ResetTokenData = {
        ...(input.interactionUid ? { interactionUid: input.interactionUid } : {}),
        ...(input.portalName ? { portalName: input.portalName } : {}),
        ...(input.clientId ? { clientId: input.clientId } : {}),
      };
      await this.tokens.issue(recipient?.id, hashOpaqueToken(token), data);
      if (recipient) {
        await this.send({
          to: recipient.email,
          template: 'reset-password',
          locale: preferredLocale(recipient.locale, input.locale),
          data: {
            email: recipient.email,
            resetUrl: this.resetUrl(token),
            expiresInMinutes: RESET_TOKEN_TTL_MS / 60_000,
          },
        });
        this.deps.logger.info(
          { event: 'password_reset.requested', accountId: recipient.id },
          'password reset link sent',
        );
      } else if (user && !withinLimit) {
        this.deps.logger.info(
          { event: 'password_reset.account_limited', accountId: user.id },
          'password reset requests limited for this account',
        );
      }
    }
    const wait = MIN_FORGOT_RESPONSE_MS - (performance.now() - started);
    if (wait > 0) await sleep(wait);
    return { kind: 'accepted' };
  }

  /**
   * A reset link an administrator sends (CLI, Admin API, console): to an enabled account, without
   * the forgot form's limits and delay, which protect an anonymous form. Older links stop working.
   * The mail is queued; false when the account is disabled (nothing is sent).
   */
  async sendLink(user: UserRow, locale: Locale): Promise<boolean> {
    if (user.disabled) return false;
    const token = newOpaqueToken();
    await this.tokens.issue(user.id, hashOpaqueToken(token), {});
    await this.deps.mailer.enqueue({
      to: user.email,
      template: 'reset-password',
      locale: preferredLocale(user.locale, locale),
      data: { email: user.email, resetUrl: this.resetUrl(token), expiresInMinutes: RESET_TOKEN_TTL_MS / 60_000 },
    });
    this.deps.logger.info({ event: 'password_reset.sent', accountId: user.id }, 'password reset link sent');
    return true;
  }

  /** What a reset link shows when opened (GET): never consumes it, since mail scanners open links too. */
  async openLink(token: string, ip: string): Promise<LinkOutcome> {
    const limited = await this.badTokenLimit(ip);
    if (limited) return limited;
    const found = await this.tokens.find(token);
    if (!found) return this.badToken(ip);
    return { kind: 'valid', email: found.email, clientId: found.data.clientId };
  }

  /** The reset form's POST: checks the link, then the new password, then changes it and revokes everything. */
  async reset(input: {
    token: string;
    password: string;
    confirmation: string;
    ip: string;
    locale: Locale;
  }): Promise<ResetOutcome> {
    const limited = await this.badTokenLimit(input.ip);
    if (limited) return limited;
    const found = await this.tokens.find(input.token);
    if (!found) return this.badToken(input.ip);

    const password = input.password.slice(0, MAX_PASSWORD_LENGTH * 4);
    if (!password) return { kind: 'rejected', email: found.email, clientId: found.data.clientId, error: 'required' };
    // Compared as typed: a password cut to length above must still match its (uncut) confirmation,
    // so an over-long one is refused as too long, not as a mismatch.
    if (input.password !== input.confirmation)
      return { kind: 'rejected', email: found.email, clientId: found.data.clientId, error: 'mismatch' };
    const verdict = checkPassword(password, {
      email: found.email,
      minLength: this.deps.config.minPasswordLength,
      productName: this.deps.config.productName,
      portalName: found.data.portalName,
    });
    if (!verdict.ok)
      return {
        kind: 'rejected',
        email: found.email,
        clientId: found.data.clientId,
        error: 'policy',
        policy: { messageKey: verdict.messageKey, vars: verdict.vars },
      };

    const passwordHash = await hashPassword(password);
    await this.deps.endSessions?.(found.userId);
    const redeemed = await this.tokens.redeem(found.id, passwordHash);
    if (!redeemed) return this.badToken(input.ip); // used or expired meanwhile (a double submit)
    await this.deps.lockout?.reset(redeemed.userId);
    this.deps.logger.info(
      { event: 'password_reset.completed', accountId: redeemed.userId },
      'password reset; every session and token revoked',
    );
    this.deps.audit?.record({
      type: 'password.reset',
      actor: { kind: 'user', id: redeemed.userId },
      subjectUserId: redeemed.userId,
      ip: input.ip,
      data: { via: 'reset_link' },
    });

    const user = await this.users.findById(redeemed.userId);
    if (user) {
      const locale = preferredLocale(user.locale, input.locale);
      await this.send({
        to: user.email,
        template: 'password-changed',
        locale,
        data: {
          email: user.email,
          // The person's zone; the issuer's when their browser never told us theirs.
          changedAt: formatInstant(new Date(this.deps.now?.() ?? Date.now()), locale, personTimeZone(user.time_zone)),
          forgotUrl: `${this.deps.config.issuer}/password/forgot`,
        },
      });
    }
    return { kind: 'changed', interactionUid: redeemed.data.interactionUid };
  }

  private async badTokenLimit(ip: string): Promise<(LinkOutcome & ResetOutcome) | undefined> {
    const seen = await this.counter.peek(resetLimitKeys.badTokenIp(ip));
    if (seen.count >= this.limits.badTokensPerIp.limit)
      return { kind: 'limited', retryAfterSeconds: seen.retryAfterSeconds };
    return undefined;
  }

  private async badToken(ip: string): Promise<{ kind: 'invalid' }> {
    await this.counter.hit(resetLimitKeys.badTokenIp(ip), this.limits.badTokensPerIp.windowMs);
    return { kind: 'invalid' };
  }

  /** A mail that cannot be queued is logged, not shown: the page must read the same either way. */
  private send(email: OutgoingEmail): Promise<void> {
    return enqueueQuietly(this.deps.mailer, this.deps.logger, email);
  }
}
