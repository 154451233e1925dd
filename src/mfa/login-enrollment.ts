import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Context } from 'koa';
import { formField } from '../http/form.ts';
import { translator } from '../i18n/i18n.ts';
import type { InteractionDetails } from '../interactions/interactions-router.ts';
import { UserRepository } from '../users/users.ts';
import { ACR_MULTI_FACTOR, type SecondFactorMethod, withSecondFactor } from './authentication-level.ts';
import { MAX_LABEL_LENGTH } from './factor-repository.ts';
import {
  type LoginStepDependencies,
  seeOther,
  sendJson,
  throttleIdentifier,
  WebauthnChallengeCookie,
} from './login-step-support.ts';
import { parseCredentialJson, passkeyMethod } from './passkeys.ts';
import type { PendingSecondFactor } from './pending-second-factor.ts';
import { RecoveryCodesDisplay } from './recovery-codes-display.ts';

/**
 * Enrollment inside a sign-in, for a portal registered with --require-mfa (or a request that
 * demands the MFA level essentially) and a user with no factor yet: an authenticator app or a
 * passkey, then the recovery codes, then the sign-in completes with both factors. The person is
 * told by email that a factor was added.
 */
export class LoginEnrollment {
  private readonly users: UserRepository;
  private readonly webauthnCookie: WebauthnChallengeCookie;
  private readonly codesDisplay: RecoveryCodesDisplay;

  constructor(private readonly deps: LoginStepDependencies) {
    this.users = new UserRepository(deps.mfa.deps.db);
    this.webauthnCookie = new WebauthnChallengeCookie(deps.config.secure);
    this.codesDisplay = new RecoveryCodesDisplay(deps.mfa.secretBox, deps.config.secure);
  }

  private pending(ctx: Context, details: InteractionDetails): PendingSecondFactor | undefined {
    const pending = this.deps.gate.pending.get(ctx, details.uid);
    if (!pending?.enroll) {
      seeOther(ctx, `/interaction/${details.uid}`);
      return undefined;
    }
    return pending;
  }

  private codesPath(uid: string): string {
    return `/interaction/${uid}/mfa/enroll/codes`;
  }

  async show(ctx: Context, details: InteractionDetails): Promise<void> {
    if (!this.pending(ctx, details)) return;
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    await this.deps.pages.render(ctx, 'mfa-enroll-login', {
      uid: details.uid,
      clientName: client?.clientName,
      error: ctx.query['error'] === 'passkey' ? 'passkey' : undefined,
    });
  }

  async startTotp(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const user = await this.users.findById(pending.accountId);
    if (!user) return seeOther(ctx, `/interaction/${details.uid}`);
    await this.deps.mfa.authenticatorApp.start(user.id, user.email);
    seeOther(ctx, `/interaction/${details.uid}/mfa/enroll/totp`);
  }

  async showTotp(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const user = await this.users.findById(pending.accountId);
    const factorId = user && (await this.deps.mfa.factors.pendingTotpId(user.id));
    const setup =
      factorId && user ? await this.deps.mfa.authenticatorApp.resume(user.id, factorId, user.email) : undefined;
    if (!setup) return seeOther(ctx, `/interaction/${details.uid}/mfa/enroll`);
    const error = ctx.query['error'] === 'wrong' || ctx.query['error'] === 'throttled' ? ctx.query['error'] : undefined;
    await this.deps.pages.render(ctx, 'mfa-totp-setup', {
      action: `/interaction/${details.uid}/mfa/enroll/totp/confirm`,
      cancelUrl: `/interaction/${details.uid}/mfa/enroll`,
      setup,
      error,
      retryAfter: Number(ctx.query['retry']) || undefined,
      defaultLabel: translator(this.deps.pages.localeOf(ctx))('mfa.totp.default_label'),
    });
  }

  async confirmTotp(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const retryPath = `/interaction/${details.uid}/mfa/enroll/totp`;
    const decision = await this.deps.throttle.check(throttleIdentifier(pending.accountId), ctx.ip);
    if (!decision.allowed) return seeOther(ctx, `${retryPath}?error=throttled&retry=${decision.retryAfterSeconds}`);
    const factorId = await this.deps.mfa.factors.pendingTotpId(pending.accountId);
    const label = labelOf(formField(ctx, 'label'), translator(this.deps.pages.localeOf(ctx))('mfa.totp.default_label'));
    const outcome = factorId
      ? await this.deps.mfa.authenticatorApp.confirm(pending.accountId, factorId, formField(ctx, 'code'), label)
      : 'wrong';
    if (outcome !== 'accepted') {
      await this.deps.throttle.recordFailure(throttleIdentifier(pending.accountId), ctx.ip);
      return seeOther(ctx, `${retryPath}?error=wrong`);
    }
    await this.deps.throttle.recordSuccess(throttleIdentifier(pending.accountId), ctx.ip);
    await this.enrolled(
      ctx,
      details,
      pending,
      { kind: 'totp', label: translator(this.deps.pages.localeOf(ctx))('mfa.kind.totp_named', { name: label }) },
      'otp',
    );
  }

  async passkeyOptions(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.deps.gate.pending.get(ctx, details.uid);
    const user = pending?.enroll ? await this.users.findById(pending.accountId) : undefined;
    if (!user) {
      ctx.status = 409;
      return sendJson(ctx, { error: 'no_pending_sign_in' });
    }
    const { challengeId, options } = await this.deps.mfa.passkeys.registrationOptions(user);
    this.webauthnCookie.set(ctx, `/interaction/${details.uid}`, challengeId);
    sendJson(ctx, options);
  }

  async registerPasskey(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const label = labelOf(
      formField(ctx, 'label'),
      translator(this.deps.pages.localeOf(ctx))('mfa.passkey.default_label'),
    );
    const response = parseCredentialJson<RegistrationResponseJSON>(formField(ctx, 'credential'));
    const challengeId = this.webauthnCookie.take(ctx, `/interaction/${details.uid}`);
    const factor = response
      ? await this.deps.mfa.passkeys.register(pending.accountId, challengeId, response, label)
      : undefined;
    if (!factor) return seeOther(ctx, `/interaction/${details.uid}/mfa/enroll?error=passkey`);
    const passkey = await this.deps.mfa.factors.passkeyByCredentialId(response!.id);
    const described = translator(this.deps.pages.localeOf(ctx))('mfa.kind.passkey_named', { name: label });
    await this.enrolled(
      ctx,
      details,
      pending,
      { kind: 'passkey', label: described },
      passkey ? passkeyMethod(passkey) : 'swk',
    );
  }

  /** A factor was enrolled: recovery codes are made and shown once, then the sign-in completes. */
  private async enrolled(
    ctx: Context,
    details: InteractionDetails,
    pending: PendingSecondFactor,
    factor: { kind: string; label: string },
    method: SecondFactorMethod,
  ): Promise<void> {
    const user = await this.users.findById(pending.accountId);
    if (!user) return seeOther(ctx, `/interaction/${details.uid}`);
    await this.deps.mfa.factorsChanged(user.id);
    await this.deps.mfa.notifications.factorChanged(user, 'added', this.deps.pages.localeOf(ctx), factor);
    const codes = await this.deps.mfa.recoveryCodes.regenerate(user.id);
    this.codesDisplay.hold(ctx, this.codesPath(details.uid), user.id, codes);
    // The factor is proven: from here the sign-in completes with both, after the codes are seen.
    this.deps.gate.pending.set(ctx, {
      uid: details.uid,
      accountId: user.id,
      amr: withSecondFactor(pending.amr, method),
      enroll: true,
      demanded: true,
    });
    this.deps.logger.info(
      { event: 'mfa.enrolled_at_login', uid: details.uid, accountId: user.id, kind: factor.kind },
      'second factor enrolled during sign-in',
    );
    seeOther(ctx, this.codesPath(details.uid));
  }

  async showCodes(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    if (!pending.amr.includes('mfa')) return seeOther(ctx, `/interaction/${details.uid}/mfa/enroll`);
    const codes = this.codesDisplay.take(ctx, this.codesPath(details.uid), pending.accountId);
    await this.deps.pages.render(ctx, 'mfa-recovery-codes', {
      codes,
      continueAction: `/interaction/${details.uid}/mfa/enroll/done`,
    });
  }

  async done(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    if (!pending.amr.includes('mfa')) return seeOther(ctx, `/interaction/${details.uid}/mfa/enroll`);
    this.deps.gate.pending.clear(ctx, details.uid);
    await this.deps.completion.signIn(ctx, details, {
      accountId: pending.accountId,
      amr: pending.amr,
      acr: ACR_MULTI_FACTOR,
    });
  }
}

/** A factor's name as typed, trimmed and bounded; the default when empty. */
export function labelOf(input: string, fallback: string): string {
  const label = input.trim().replace(/\s+/g, ' ').slice(0, MAX_LABEL_LENGTH);
  return label || fallback;
}
