import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { formatInstant, type Locale, preferredLocale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { enqueueQuietly, type Mailer, type OutgoingEmail } from '../notify/mailer.ts';
import type { Database, UserRow } from '../storage/schema.ts';
import { FixedWindowCounter } from '../throttling/fixed-window-counter.ts';
import { hashOpaqueToken, newOpaqueToken } from '../users/account-tokens.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { hashPassword } from '../users/password-hasher.ts';
import { checkPassword, MAX_PASSWORD_LENGTH, type PasswordMessageVars } from '../users/password-policy.ts';
import { personTimeZone } from '../users/time-zone.ts';
import { UserRepository } from '../users/users.ts';
import { DEFAULT_PASSWORD_RESET_LIMITS, type PasswordResetLimits, resetLimitKeys } from './password-reset-limits.ts';
import { PasswordResetTokens, RESET_TOKEN_TTL_MS, type ResetTokenData } from './password-reset-tokens.ts';

/**
 * Every "forgot password" answer takes at least this long, so that the little work done only
 * for existing accounts (one insert, one queued email) cannot be told apart by timing.
 */
export const MIN_FORGOT_RESPONSE_MS = 200;

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
