import type { Context } from 'koa';
import { formField } from '../http/form.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { requiresEmailVerification } from '../users/email-verification.ts';
import { hashPassword, needsRehash, verifyPassword } from '../users/password-hasher.ts';
import { MAX_PASSWORD_LENGTH } from '../users/password-policy.ts';
import { UserRepository } from '../users/users.ts';
import type { InteractionDependencies, InteractionDetails } from './interactions-router.ts';
import type { FirstFactor } from './login-completion.ts';
import type { LoginIdentifierCookie } from './login-identifier-cookie.ts';
import type { VerificationStep } from './verification-step.ts';

/**
 * Identifier-first password login. The email step never looks the account up, and a wrong
 * password reads exactly like an unknown email, so nothing reveals which emails exist.
 */
export class PasswordLogin {
  private readonly users: UserRepository;

  constructor(
    private readonly deps: InteractionDependencies,
    private readonly identifier: LoginIdentifierCookie,
    private readonly verification?: VerificationStep,
  ) {
    this.users = new UserRepository(deps.storage.db);
  }

  async show(ctx: Context, details: InteractionDetails): Promise<void> {
    const email = this.identifier.get(ctx, details.uid);
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    const common = { uid: details.uid, clientName: client?.clientName };
    if (email && ctx.query['step'] !== 'identifier') {
      const error = ctx.query['error'] === 'credentials' ? 'credentials' : undefined;
      // Where a password reset started from this sign-in ends (forgot-password-step.ts).
      const notice = ctx.query['notice'] === 'password_changed' ? 'password_changed' : undefined;
      return this.deps.pages.render(ctx, 'login-password', { ...common, email, error, notice });
    }
    const hint = typeof details.params['login_hint'] === 'string' ? details.params['login_hint'] : '';
    const sessionEmail = details.session?.accountId
      ? (await this.users.findById(details.session.accountId))?.email
      : undefined;
    const sessionEnded = this.deps.sessionNotice.take(ctx);
    // A passkey sign-in that did not hold comes back here (src/mfa/passkey-login.ts).
    const passkeyError =
      ctx.query['passkey'] === 'failed' || ctx.query['passkey'] === 'throttled' ? ctx.query['passkey'] : undefined;
    return this.deps.pages.render(ctx, 'login-identifier', {
      ...common,
      email: email ?? (hint || sessionEmail || ''),
      sessionEnded,
      passkeyError,
    });
  }

  async submitIdentifier(ctx: Context, details: InteractionDetails): Promise<void> {
    const email = normalizeEmail(formField(ctx, 'email'));
    if (!isValidEmail(email)) {
      const client = await this.deps.provider.Client.find(String(details.params['client_id']));
      return this.deps.pages.render(
        ctx,
        'login-identifier',
        { uid: details.uid, clientName: client?.clientName, email, error: 'email_invalid' },
        400,
      );
    }
    this.identifier.set(ctx, details.uid, email);
    ctx.redirect(`/interaction/${details.uid}`);
    ctx.status = 303;
  }

  /** The login result when the password is right; otherwise answers the request itself and returns undefined. */
  async submitPassword(ctx: Context, details: InteractionDetails): Promise<FirstFactor | undefined> {
    const email = this.identifier.get(ctx, details.uid);
    if (!email) {
      ctx.redirect(`/interaction/${details.uid}`);
      ctx.status = 303;
      return undefined;
    }
    const password = formField(ctx, 'password').slice(0, MAX_PASSWORD_LENGTH * 4);
    const ip = ctx.ip;
    const decision = await this.deps.throttle.check(email, ip);
    if (!decision.allowed) {
      ctx.set('Retry-After', String(decision.retryAfterSeconds));
      const client = await this.deps.provider.Client.find(String(details.params['client_id']));
      await this.deps.pages.render(
        ctx,
        'login-password',
        {
          uid: details.uid,
          clientName: client?.clientName,
          email,
          error: 'throttled',
          retryAfter: decision.retryAfterSeconds,
        },
        429,
      );
      return undefined;
    }

    const user = await this.users.findByEmail(email);
    const passwordMatches = await verifyPassword(user?.password_hash, password);
    if (!user || !passwordMatches || user.disabled) {
      await this.deps.throttle.recordFailure(email, ip);
      this.deps.logger.info({ event: 'login.failed', uid: details.uid }, 'password login failed');
      ctx.redirect(`/interaction/${details.uid}?error=credentials`);
      ctx.status = 303;
      return undefined;
    }

    await this.deps.throttle.recordSuccess(email, ip);
    // A self-service account whose email is not verified yet: the right password leads to the
    // verification step, and the login completes there (see verification-step.ts).
    if (this.verification && requiresEmailVerification(user)) {
      this.identifier.clear(ctx, details.uid);
      await this.verification.begin(ctx, details, { user, typedEmail: user.email, reason: 'login' });
      return undefined;
    }
    if (needsRehash(user.password_hash!)) await this.users.setPasswordHash(user.id, await hashPassword(password));
    await this.users.recordLogin(user.id);
    this.identifier.clear(ctx, details.uid);
    this.deps.logger.info({ event: 'login.succeeded', uid: details.uid, accountId: user.id }, 'password login');
    return { accountId: user.id, amr: ['pwd'] };
  }
}
