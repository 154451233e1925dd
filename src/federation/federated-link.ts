import type { Context } from 'koa';
import type { InteractionDetails } from '../interactions/interactions-router.ts';
import { verifyPassword } from '../users/password-hasher.ts';
import { MAX_PASSWORD_LENGTH } from '../users/password-policy.ts';
import { UserRepository } from '../users/users.ts';
import type { FederatedLogin, FederatedLoginDependencies } from './federated-login.ts';
import type { AuthenticatedLogin } from './federation-logins.ts';

/**
 * Linking a Google or Microsoft account to the existing account with the same (verified) email:
 * the person proves control of the local account with its password, throttled like the login.
 * Another proof (a passkey or code of the second-factor step) would plug in here the same way:
 * whatever it is, it must name this account before `link` runs, and its amr joins the login's.
 */
export class FederatedLink {
  private readonly users: UserRepository;

  constructor(
    private readonly deps: FederatedLoginDependencies,
    private readonly login: FederatedLogin,
  ) {
    this.users = new UserRepository(deps.storage.db);
  }

  async show(
    ctx: Context,
    details: InteractionDetails,
    pending: AuthenticatedLogin,
    error?: string,
    retryAfter?: number,
    status = 200,
  ): Promise<void> {
    await this.deps.pages.render(
      ctx,
      'federation-link',
      {
        uid: details.uid,
        loginId: pending.id,
        provider: pending.provider,
        email: pending.identity.email,
        error,
        retryAfter,
      },
      status,
    );
  }

  async submit(ctx: Context, details: InteractionDetails, pending: AuthenticatedLogin): Promise<void> {
    const email = pending.identity.email!;
    const body = (ctx.request as { body?: Record<string, unknown> }).body;
    const password = (typeof body?.['password'] === 'string' ? body['password'] : '').slice(0, MAX_PASSWORD_LENGTH * 4);
    const decision = await this.deps.throttle.check(email, ctx.ip);
    if (!decision.allowed) {
      ctx.set('Retry-After', String(decision.retryAfterSeconds));
      return this.show(ctx, details, pending, 'throttled', decision.retryAfterSeconds, 429);
    }
    const user = await this.users.findByEmail(email);
    // The page was offered for a verified account with this email; re-check, it may have changed since.
    const eligible = user && !user.disabled && user.email_verified;
    if (!eligible || !(await verifyPassword(user.password_hash, password))) {
      await this.deps.throttle.recordFailure(email, ctx.ip);
      this.deps.logger.info(
        { event: 'federation.link_failed', uid: details.uid, provider: pending.provider },
        'link refused: wrong password',
      );
      ctx.redirect(
        `/interaction/${details.uid}/federation/link?login=${encodeURIComponent(pending.id)}&error=credentials`,
      );
      ctx.status = 303;
      return;
    }
    await this.deps.throttle.recordSuccess(email, ctx.ip);
    if (!(await this.login.link(user, pending.identity, details.uid, 'password'))) {
      return this.login.showError(ctx, details, pending.provider, 'already_linked', 409);
    }
    await this.login.signIn(ctx, details, pending, user, ['pwd']);
  }
}
