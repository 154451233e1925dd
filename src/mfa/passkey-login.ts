import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Context } from 'koa';
import { formField } from '../http/form.ts';
import type { InteractionDetails } from '../interactions/interactions-router.ts';
import { UserRepository } from '../users/users.ts';
import { type LoginStepDependencies, seeOther, sendJson, WebauthnChallengeCookie } from './login-step-support.ts';
import { parseCredentialJson, passkeyMethod } from './passkeys.ts';

/** Passkeys cannot be guessed, but failures still count against the address (and the credential), as passwords do. */
function throttleIdentifier(credentialId: string | undefined): string {
  return `passkey:${credentialId ?? '-'}`;
}

/**
 * "Iniciar sesión con una llave de acceso": a passwordless first factor. The login page asks the
 * browser for a discoverable passkey (the button, or autofill in the email field); the assertion
 * must verify the user (PIN, biometric), so it is two factors in one, and goes through
 * LoginCompletion like every other sign-in.
 */
export class PasskeyLogin {
  private readonly webauthnCookie: WebauthnChallengeCookie;
  private readonly users: UserRepository;

  constructor(private readonly deps: LoginStepDependencies) {
    this.webauthnCookie = new WebauthnChallengeCookie(deps.config.secure);
    this.users = new UserRepository(deps.mfa.deps.db);
  }

  async options(ctx: Context, details: InteractionDetails): Promise<void> {
    const { challengeId, options } = await this.deps.mfa.passkeys.authenticationOptions('login');
    this.webauthnCookie.set(ctx, `/interaction/${details.uid}`, challengeId);
    sendJson(ctx, options);
  }

  async submit(ctx: Context, details: InteractionDetails): Promise<void> {
    const response = parseCredentialJson<AuthenticationResponseJSON>(formField(ctx, 'credential'));
    const identifier = throttleIdentifier(response?.id);
    const decision = await this.deps.throttle.check(identifier, ctx.ip);
    if (!decision.allowed) {
      ctx.set('Retry-After', String(decision.retryAfterSeconds));
      return seeOther(ctx, `/interaction/${details.uid}?passkey=throttled`);
    }
    const challengeId = this.webauthnCookie.take(ctx, `/interaction/${details.uid}`);
    const result = response ? await this.deps.mfa.passkeys.verifyAssertion('login', challengeId, response) : undefined;
    const user = result?.ok ? await this.users.findById(result.passkey.userId) : undefined;
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
      return seeOther(ctx, `/interaction/${details.uid}?passkey=failed`);
    }
    await this.users.recordLogin(user.id);
    this.deps.logger.info(
      { event: 'login.succeeded', uid: details.uid, accountId: user.id, via: 'passkey' },
      'passkey login',
    );
    // Possession of the key plus the user verification it required: two factors.
    await this.deps.completion.complete(ctx, details, {
      accountId: user.id,
      amr: [passkeyMethod(result.passkey), 'mfa'],
    });
  }
}
