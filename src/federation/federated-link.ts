import type { Context } from 'koa';
import { z } from 'zod';
import { originOf } from '../audit/audit-event.ts';
import { formFields, readForm } from '../http/form.ts';
import { type InteractionDetails, outcome, type StepOutcome } from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { Storage } from '../storage/database.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import { verifyPassword } from '../users/password-hasher.ts';
import { MAX_PASSWORD_LENGTH } from '../users/password-policy.ts';
import { UserRepository } from '../users/users.ts';
import type { FederatedLogin } from './federated-login.ts';
import type { AuthenticatedLogin } from './federation-logins.ts';

export interface FederatedLinkDependencies {
  logger: Logger;
  storage: Pick<Storage, 'db'>;
  /** The login's password throttle: guessing through the link page counts the same. */
  throttle: Pick<LoginThrottle, 'check' | 'recordFailure' | 'recordSuccess'>;
}

/** The local account's password; a wrong one is a refused sign-in, not a field error. */
const linkForm = z.object({
  password: formFields.text().transform((password) => password.slice(0, MAX_PASSWORD_LENGTH * 4)),
});

/**
 * Linking a Google or Microsoft account to the existing account with the same (verified) email:
 * the person proves control of the local account with its password, throttled like the login.
 * Another proof (a passkey or code of the second-factor step) would plug in here the same way:
 * whatever it is, it must name this account before `link` runs, and its amr joins the login's.
 */
export class FederatedLink {
  private readonly users: UserRepository;

  constructor(
    private readonly deps: FederatedLinkDependencies,
    private readonly login: FederatedLogin,
  ) {
    this.users = new UserRepository(deps.storage.db);
  }

  show(
    details: InteractionDetails,
    pending: AuthenticatedLogin,
    error?: string,
    retryAfter?: number,
    status = 200,
    headers?: Record<string, string>,
  ): StepOutcome {
    return outcome.page(
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
      headers,
    );
  }

  async submit(ctx: Context, details: InteractionDetails, pending: AuthenticatedLogin): Promise<StepOutcome> {
    const email = pending.identity.email!;
    const { password } = readForm(ctx, linkForm);
    const decision = await this.deps.throttle.check(email, ctx.ip);
    if (!decision.allowed) {
      const retryAfter = decision.retryAfterSeconds;
      return this.show(details, pending, 'throttled', retryAfter, 429, { 'Retry-After': String(retryAfter) });
    }
    const user = await this.users.findByEmail(email);
    // The page was offered for a verified account with this email; re-check, it may have changed since.
    const eligible = user && !user.disabled && user.email_verified;
    if (!eligible || !(await verifyPassword(user.password_hash, password))) {
      await this.deps.throttle.recordFailure(email, ctx.ip);
      this.login.refused(ctx, details, pending.provider, user?.disabled ? 'disabled' : 'link_wrong_password', user?.id);
      this.deps.logger.info(
        { event: 'federation.link_failed', uid: details.uid, provider: pending.provider },
        'link refused: wrong password',
      );
      return outcome.redirect(
        `/interaction/${details.uid}/federation/link?login=${encodeURIComponent(pending.id)}&error=credentials`,
      );
    }
    await this.deps.throttle.recordSuccess(email, ctx.ip);
    if (!(await this.login.link(user, pending.identity, details.uid, 'password', originOf(ctx)))) {
      return this.login.errorPage(details, pending.provider, 'already_linked', 409);
    }
    return this.login.signIn(ctx, details, pending, user, ['pwd']);
  }
}
