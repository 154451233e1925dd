import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { type AuditTrail, originOf } from '../audit/audit-event.ts';
import { formFields, readForm } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import type { EndedSessionNotice } from '../sessions/ended-session-notice.ts';
import type { PasswordLockout } from '../throttling/account-lockout.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { requiresEmailVerification } from '../users/email-verification.ts';
import { hashPassword, needsRehash, verifyPassword } from '../users/password-hasher.ts';
import { MAX_PASSWORD_LENGTH } from '../users/password-policy.ts';
import type { UserRepository } from '../users/users.ts';
import {
  type EmailVerificationStart,
  type IdentifierRouting,
  type InteractionDetails,
  type InteractionRoute,
  isSigningIn,
  outcome,
  type SignInStep,
  type StepOutcome,
} from './interaction.ts';
import type { LoginIdentifierCookie } from './login-identifier-cookie.ts';

export interface PasswordStepDependencies {
  provider: Provider;
  users: UserRepository;
  throttle: LoginThrottle;
  /** The hard cap on consecutive wrong passwords, past which only the emailed unlock link helps. */
  lockout: PasswordLockout;
  /** The page's language, for the unlock email of an account that has none of its own. */
  pages: Pick<PageRenderer, 'localeOf'>;
  logger: Logger;
  identifier: LoginIdentifierCookie;
  /** Why this browser's last session was ended, shown once on the login page. */
  sessionNotice: Pick<EndedSessionNotice, 'take'>;
  /** Where an unverified account's right password leads. */
  verification: EmailVerificationStart;
  /** Emails of routed domains go to their provider instead (federation); none when unconfigured. */
  identifierRouting?: IdentifierRouting | undefined;
  /** Failed sign-ins are recorded here (the success is recorded once, by the pipeline). */
  audit?: AuditTrail;
}

const identifierForm = z.object({ email: formFields.text() });
const passwordForm = z.object({ password: formFields.text(), time_zone: formFields.text() });

/**
 * Identifier-first password login (email → Siguiente → password). The email step never looks the
 * account up, and a wrong password reads exactly like an unknown email, so nothing reveals which
 * emails exist. After 100 consecutive wrong passwords an account's password is refused, right or
 * wrong, until its owner opens the emailed unlock link (src/throttling/account-lockout.ts).
 */
export class PasswordStep implements SignInStep {
  readonly name = 'password';
  readonly routes: readonly InteractionRoute[];

  constructor(private readonly deps: PasswordStepDependencies) {
    this.routes = [
      { method: 'post', path: '/identifier', handle: (ctx, details) => this.submitIdentifier(ctx, details) },
      { method: 'post', path: '/password', handle: (ctx, details) => this.submitPassword(ctx, details) },
    ];
  }

  /** The login page of a sign-in: the email step, or the password step once an email was given. */
  async resume(ctx: Context, details: InteractionDetails): Promise<StepOutcome | undefined> {
    if (!isSigningIn(details)) return undefined;
    const email = this.deps.identifier.get(ctx, details.uid);
    const common = { uid: details.uid, clientName: await this.clientName(details) };
    if (email && ctx.query['step'] !== 'identifier') {
      const shown = ctx.query['error'];
      const error =
        shown === 'credentials' || shown === 'locked' || shown === 'disabled' || shown === 'password_required'
          ? shown
          : undefined;
      // Where a password reset started from this sign-in ends (forgot-password-router.ts).
      const notice = ctx.query['notice'] === 'password_changed' ? 'password_changed' : undefined;
      return outcome.page('login-password', { ...common, email, error, notice });
    }
    const hint = typeof details.params['login_hint'] === 'string' ? details.params['login_hint'] : '';
    const sessionEmail = details.session?.accountId
      ? (await this.deps.users.findById(details.session.accountId))?.email
      : undefined;
    const sessionEnded = this.deps.sessionNotice.take(ctx);
    // A passkey sign-in that did not hold comes back here (src/mfa/passkey-sign-in-step.ts).
    const passkey = ctx.query['passkey'];
    const passkeyError = passkey === 'failed' || passkey === 'throttled' ? passkey : undefined;
    const shownEmail = email ?? (hint || sessionEmail || '');
    return outcome.page('login-identifier', { ...common, email: shownEmail, sessionEnded, passkeyError });
  }

  private async submitIdentifier(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const email = normalizeEmail(readForm(ctx, identifierForm).email);
    // An email of a domain routed to Google or Microsoft goes there; any other goes on as ever.
    const routed = await this.deps.identifierRouting?.route(ctx, details, email);
    if (routed) return routed;
    if (!isValidEmail(email)) {
      const locals = { uid: details.uid, clientName: await this.clientName(details), email, error: 'email_invalid' };
      return outcome.page('login-identifier', locals, 400);
    }
    this.deps.identifier.set(ctx, details.uid, email);
    return outcome.back(details.uid);
  }

  private async submitPassword(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const email = this.deps.identifier.get(ctx, details.uid);
    if (!email) return outcome.back(details.uid);
    const form = readForm(ctx, passwordForm);
    const password = form.password.slice(0, MAX_PASSWORD_LENGTH * 4);
    // Nothing typed is not a wrong password: said as such, and neither counted nor throttled.
    if (!password) return outcome.redirect(`/interaction/${details.uid}?error=password_required`);
    const ip = ctx.ip;
    const decision = await this.deps.throttle.check(email, ip);
    if (!decision.allowed) {
      const retryAfter = decision.retryAfterSeconds;
      const locals = {
        uid: details.uid,
        clientName: await this.clientName(details),
        email,
        error: 'throttled',
        retryAfter,
      };
      return outcome.page('login-password', locals, 429, { 'Retry-After': String(retryAfter) });
    }

    const user = await this.deps.users.findByEmail(email);
    const passwordMatches = await verifyPassword(user?.password_hash, password);
    const locale = this.deps.pages.localeOf(ctx);
    // A disabled account is told so only after its right password, as a locked one is: whoever
    // typed it already knows the account exists, so nothing is enumerated; a wrong password reads
    // "credentials", like an unknown email. Passkeys and Google/Microsoft tell it only after
    // their own proof too. It is not counted as a failure: the password was right.
    if (user?.disabled && passwordMatches) {
      this.deps.logger.info({ event: 'login.refused_disabled', uid: details.uid, accountId: user.id }, 'disabled');
      this.failed(ctx, details, user.id, 'disabled');
      return outcome.redirect(`/interaction/${details.uid}?error=disabled`);
    }
    const account = user && !user.disabled ? user : undefined;
    if (!account || !passwordMatches) {
      await this.deps.throttle.recordFailure(email, ip);
      // Only accounts with a password are counted, so an unknown email reads "wrong password"
      // forever: 100 attempts tell such an account from none (README, "Locked password sign-in").
      const lock = await this.deps.lockout.recordFailure(account?.password_hash ? account : undefined, locale);
      this.deps.logger.info({ event: 'login.failed', uid: details.uid }, 'password login failed');
      this.failed(ctx, details, user?.id, user ? (user.disabled ? 'disabled' : 'wrong_password') : 'unknown_account');
      return outcome.redirect(`/interaction/${details.uid}?error=${lock === 'locked' ? 'locked' : 'credentials'}`);
    }
    if ((await this.deps.lockout.admitPassword(account, locale)) === 'locked') {
      this.deps.logger.info({ event: 'login.refused_locked', uid: details.uid, accountId: account.id }, 'locked');
      this.failed(ctx, details, account.id, 'locked');
      return outcome.redirect(`/interaction/${details.uid}?error=locked`);
    }

    await this.deps.throttle.recordSuccess(email, ip, decision);
    // A self-service account whose email is not verified yet: the right password leads to the
    // verification step, and the login completes there (verification-step.ts).
    if (requiresEmailVerification(account)) {
      this.deps.identifier.clear(ctx, details.uid);
      return this.deps.verification.begin(ctx, details, { user: account, typedEmail: account.email, reason: 'login' });
    }
    if (needsRehash(account.password_hash!)) {
      await this.deps.users.setPasswordHash(account.id, await hashPassword(password));
    }
    await this.deps.users.recordLogin(account.id);
    await this.deps.users.rememberTimeZone(account.id, form.time_zone);
    this.deps.identifier.clear(ctx, details.uid);
    this.deps.logger.info({ event: 'login.succeeded', uid: details.uid, accountId: account.id }, 'password login');
    return outcome.login({ accountId: account.id, amr: ['pwd'] });
  }

  /** A refused password, tied to the account when the email has one (for an unknown email, to no one). */
  private failed(ctx: Context, details: InteractionDetails, userId: string | undefined, reason: string): void {
    this.deps.audit?.record({
      type: 'sign_in.failed',
      actor: userId ? { kind: 'user', id: userId } : { kind: 'system' },
      subjectUserId: userId,
      ...originOf(ctx),
      data: { method: 'pwd', reason, portal: String(details.params['client_id'] ?? '') },
    });
  }

  private async clientName(details: InteractionDetails): Promise<string | undefined> {
    return (await this.deps.provider.Client.find(String(details.params['client_id'])))?.clientName;
  }
}
