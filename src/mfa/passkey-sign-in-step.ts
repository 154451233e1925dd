import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Context } from 'koa';
import { z } from 'zod';
import { originOf } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { formFields, readForm } from '../http/form.ts';
import {
  type InteractionDetails,
  type InteractionRoute,
  outcome,
  type SignInStep,
  type StepOutcome,
} from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { UserRow } from '../storage/schema.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import type { UserRepository } from '../users/users.ts';
import { WebauthnChallengeCookie } from './login-step-support.ts';
import type { Mfa } from './mfa.ts';
import { parseCredentialJson, passkeyMethod } from './passkeys.ts';

/** The assertion the WebAuthn script put in the login form; malformed JSON reads as no credential (and fails). */
const passkeyLoginForm = z.object({
  credential: formFields.text().transform((raw) => parseCredentialJson<AuthenticationResponseJSON>(raw)),
});

export interface PasskeySignInStepDependencies {
  config: Pick<Config, 'secure'>;
  throttle: LoginThrottle;
  logger: Logger;
  mfa: Pick<Mfa, 'passkeys' | 'factors' | 'audit'>;
  users: Pick<UserRepository, 'findById' | 'recordLogin'>;
}

/** Passkeys cannot be guessed, but failures still count against the address (and the credential), as passwords do. */
function throttleIdentifier(credentialId: string | undefined): string {
  return `passkey:${credentialId ?? '-'}`;
}

/**
 * "Iniciar sesión con una llave de acceso": a passwordless first factor. The login page asks the
 * browser for a discoverable passkey (the button, or autofill in the email field); the assertion
 * must verify the user (PIN, biometric), so it is two factors in one. Like every first factor it
 * goes on through the sign-in's steps from the first (the second-factor step passes its mfa-level
 * amr on, with the acr).
 */
export class PasskeySignInStep implements SignInStep {
  readonly name = 'passkey';
  readonly routes: readonly InteractionRoute[];
  private readonly webauthnCookie: WebauthnChallengeCookie;

  constructor(private readonly deps: PasskeySignInStepDependencies) {
    this.webauthnCookie = new WebauthnChallengeCookie(deps.config.secure);
    this.routes = [
      { method: 'get', path: '/passkey/options', handle: (ctx, details) => this.options(ctx, details) },
      { method: 'post', path: '/passkey', handle: (ctx, details) => this.submit(ctx, details) },
    ];
  }

  private async options(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const { challengeId, options } = await this.deps.mfa.passkeys.authenticationOptions('login');
    this.webauthnCookie.set(ctx, `/interaction/${details.uid}`, challengeId);
    return outcome.json(options);
  }

  private async submit(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const response = readForm(ctx, passkeyLoginForm).credential;
    const identifier = throttleIdentifier(response?.id);
    const decision = await this.deps.throttle.check(identifier, ctx.ip);
    if (!decision.allowed) {
      // The 303 back says how long to wait.
      const wait = { 'Retry-After': String(decision.retryAfterSeconds) };
      return outcome.redirect(`/interaction/${details.uid}?passkey=throttled`, wait);
    }
    const challengeId = this.webauthnCookie.take(ctx, `/interaction/${details.uid}`);
    const result = response ? await this.deps.mfa.passkeys.verifyAssertion('login', challengeId, response) : undefined;
    const user = result?.ok ? await this.deps.users.findById(result.passkey.userId) : undefined;
    if (!result?.ok || !user || user.disabled || !result.userVerified) {
      await this.deps.throttle.recordFailure(identifier, ctx.ip);
      this.deps.logger.info(
        {
          event: 'login.failed',
          uid: details.uid,
          via: 'passkey',
          reason: result?.ok ? 'account' : (result?.reason ?? 'malformed'),
        },
        'passkey login failed',
      );
      await this.recordFailure(ctx, details, result, user, response?.id);
      return outcome.redirect(`/interaction/${details.uid}?passkey=failed`);
    }
    await this.deps.users.recordLogin(user.id);
    this.deps.logger.info(
      { event: 'login.succeeded', uid: details.uid, accountId: user.id, via: 'passkey' },
      'passkey login',
    );
    // Possession of the key plus the user verification it required: two factors.
    return outcome.login({ accountId: user.id, amr: [passkeyMethod(result.passkey), 'mfa'] });
  }

  /**
   * A refused passkey in the audit log, tied to the account whose passkey it was when it is one
   * of ours (a disabled account's, or one that failed to verify), to no one otherwise. The page
   * reads the same either way ("passkey=failed"): a disabled account is told only by the
   * password step and Google/Microsoft, after their own proof.
   */
  private async recordFailure(
    ctx: Context,
    details: InteractionDetails,
    result: Awaited<ReturnType<Mfa['passkeys']['verifyAssertion']>> | undefined,
    user: UserRow | undefined,
    credentialId: string | undefined,
  ): Promise<void> {
    const ownerId =
      user?.id ??
      (result?.ok ? result.passkey.userId : undefined) ??
      (credentialId ? (await this.deps.mfa.factors.passkeyByCredentialId(credentialId))?.userId : undefined);
    const reason = !result
      ? 'malformed'
      : !result.ok
        ? result.reason
        : user?.disabled
          ? 'disabled'
          : !user
            ? 'unknown_account'
            : 'not_user_verified';
    this.deps.mfa.audit.record({
      type: 'sign_in.failed',
      actor: ownerId ? { kind: 'user', id: ownerId } : { kind: 'system' },
      subjectUserId: ownerId,
      ...originOf(ctx),
      data: { method: 'passkey', reason, portal: String(details.params['client_id'] ?? '') },
    });
  }
}
