import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { originOf } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { formFields, readForm } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { translator } from '../i18n/i18n.ts';
import { type InteractionDetails, outcome, type StepOutcome } from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import type { UserRepository } from '../users/users.ts';
import { ACR_MULTI_FACTOR, type SecondFactorMethod, withSecondFactor } from './authentication-level.ts';
import { MAX_LABEL_LENGTH } from './factor-repository.ts';
import { throttleIdentifier, WebauthnChallengeCookie } from './login-step-support.ts';
import type { Mfa } from './mfa.ts';
import { parseCredentialJson, passkeyMethod } from './passkeys.ts';
import {
  type PendingSecondFactor,
  type PendingSecondFactorCookie,
  secondFactorPassed,
} from './pending-second-factor.ts';
import { RecoveryCodesDisplay } from './recovery-codes-display.ts';

/** The confirming code of a new authenticator app, and the name the person gave it. */
export const totpConfirmForm = z.object({ code: formFields.text(), label: formFields.text() });
/** The credential the WebAuthn script created, and its name; malformed JSON reads as no credential. */
export const passkeyRegistrationForm = z.object({
  label: formFields.text(),
  credential: formFields.text().transform((raw) => parseCredentialJson<RegistrationResponseJSON>(raw)),
});

export interface LoginEnrollmentDependencies {
  config: Pick<Config, 'secure'>;
  provider: Pick<Provider, 'Client'>;
  pages: Pick<PageRenderer, 'localeOf'>;
  throttle: LoginThrottle;
  logger: Logger;
  mfa: Mfa;
  users: Pick<UserRepository, 'findById'>;
  pending: PendingSecondFactorCookie;
}

/**
 * Enrollment inside a sign-in, for a portal registered with --require-mfa (or a request that
 * demands the MFA level essentially) and a user with no factor yet: an authenticator app or a
 * passkey, then the recovery codes, then the sign-in goes on with both factors. The person is
 * told by email that a factor was added.
 */
export class LoginEnrollment {
  private readonly webauthnCookie: WebauthnChallengeCookie;
  private readonly codesDisplay: RecoveryCodesDisplay;

  constructor(private readonly deps: LoginEnrollmentDependencies) {
    this.webauthnCookie = new WebauthnChallengeCookie(deps.config.secure);
    this.codesDisplay = new RecoveryCodesDisplay(deps.mfa.secretBox, deps.config.secure);
  }

  /** The first factor this browser passed in this interaction, waiting for a factor to be enrolled; else undefined. */
  private pending(ctx: Context, details: InteractionDetails): PendingSecondFactor | undefined {
    const pending = this.deps.pending.get(ctx, details.uid);
    return pending?.enroll ? pending : undefined;
  }

  private codesPath(uid: string): string {
    return `/interaction/${uid}/mfa/enroll/codes`;
  }

  private t(ctx: Context) {
    return translator(this.deps.pages.localeOf(ctx));
  }

  async show(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    if (!this.pending(ctx, details)) return outcome.back(details.uid);
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    return outcome.page('mfa-enroll-login', {
      uid: details.uid,
      clientName: client?.clientName,
      error: ctx.query['error'] === 'passkey' ? 'passkey' : undefined,
    });
  }

  async startTotp(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const user = await this.deps.users.findById(pending.accountId);
    if (!user) return outcome.back(details.uid);
    await this.deps.mfa.authenticatorApp.start(user.id, user.email);
    return outcome.redirect(`/interaction/${details.uid}/mfa/enroll/totp`);
  }

  async showTotp(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const user = await this.deps.users.findById(pending.accountId);
    const factorId = user && (await this.deps.mfa.factors.pendingTotpId(user.id));
    const setup =
      factorId && user ? await this.deps.mfa.authenticatorApp.resume(user.id, factorId, user.email) : undefined;
    if (!setup) return outcome.redirect(`/interaction/${details.uid}/mfa/enroll`);
    const error = ctx.query['error'] === 'wrong' || ctx.query['error'] === 'throttled' ? ctx.query['error'] : undefined;
    return outcome.page('mfa-totp-setup', {
      action: `/interaction/${details.uid}/mfa/enroll/totp/confirm`,
      cancelUrl: `/interaction/${details.uid}/mfa/enroll`,
      setup,
      error,
      retryAfter: Number(ctx.query['retry']) || undefined,
      defaultLabel: this.t(ctx)('mfa.totp.default_label'),
    });
  }

  async confirmTotp(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const retryPath = `/interaction/${details.uid}/mfa/enroll/totp`;
    const decision = await this.deps.throttle.check(throttleIdentifier(pending.accountId), ctx.ip);
    if (!decision.allowed) return outcome.redirect(`${retryPath}?error=throttled&retry=${decision.retryAfterSeconds}`);
    const form = readForm(ctx, totpConfirmForm);
    const factorId = await this.deps.mfa.factors.pendingTotpId(pending.accountId);
    const label = labelOf(form.label, this.t(ctx)('mfa.totp.default_label'));
    const verdict = factorId
      ? await this.deps.mfa.authenticatorApp.confirm(pending.accountId, factorId, form.code, label)
      : 'wrong';
    if (verdict !== 'accepted') {
      await this.deps.throttle.recordFailure(throttleIdentifier(pending.accountId), ctx.ip);
      return outcome.redirect(`${retryPath}?error=wrong`);
    }
    await this.deps.throttle.recordSuccess(throttleIdentifier(pending.accountId), ctx.ip);
    return this.enrolled(
      ctx,
      details,
      pending,
      { kind: 'totp', label: this.t(ctx)('mfa.kind.totp_named', { name: label }) },
      'otp',
    );
  }

  async passkeyOptions(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    const user = pending ? await this.deps.users.findById(pending.accountId) : undefined;
    if (!user) {
      return outcome.json({ error: 'no_pending_sign_in' }, 409);
    }
    const { challengeId, options } = await this.deps.mfa.passkeys.registrationOptions(user);
    this.webauthnCookie.set(ctx, `/interaction/${details.uid}`, challengeId);
    return outcome.json(options);
  }

  async registerPasskey(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const form = readForm(ctx, passkeyRegistrationForm);
    const label = labelOf(form.label, this.t(ctx)('mfa.passkey.default_label'));
    const response = form.credential;
    const challengeId = this.webauthnCookie.take(ctx, `/interaction/${details.uid}`);
    const factor = response
      ? await this.deps.mfa.passkeys.register(pending.accountId, challengeId, response, label)
      : undefined;
    if (!factor || !response) return outcome.redirect(`/interaction/${details.uid}/mfa/enroll?error=passkey`);
    const passkey = await this.deps.mfa.factors.passkeyByCredentialId(response.id);
    const described = this.t(ctx)('mfa.kind.passkey_named', { name: label });
    return this.enrolled(
      ctx,
      details,
      pending,
      { kind: 'passkey', label: described },
      passkey ? passkeyMethod(passkey) : 'swk',
    );
  }

  /** A factor was enrolled: recovery codes are made and shown once, then the sign-in goes on. */
  private async enrolled(
    ctx: Context,
    details: InteractionDetails,
    pending: PendingSecondFactor,
    factor: { kind: string; label: string },
    method: SecondFactorMethod,
  ): Promise<StepOutcome> {
    const user = await this.deps.users.findById(pending.accountId);
    if (!user) return outcome.back(details.uid);
    await this.deps.mfa.factorsChanged(user.id);
    await this.deps.mfa.notifications.factorChanged(
      user,
      'added',
      this.deps.pages.localeOf(ctx),
      factor,
      originOf(ctx),
    );
    const codes = await this.deps.mfa.recoveryCodes.regenerate(user.id);
    this.codesDisplay.hold(ctx, this.codesPath(details.uid), user.id, codes);
    // The factor is proven: from here the sign-in goes on with both, after the codes are seen.
    this.deps.pending.set(ctx, {
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
    return outcome.redirect(this.codesPath(details.uid));
  }

  async showCodes(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    if (!pending.amr.includes('mfa')) return outcome.redirect(`/interaction/${details.uid}/mfa/enroll`);
    const codes = this.codesDisplay.take(ctx, this.codesPath(details.uid), pending.accountId);
    return outcome.page('mfa-recovery-codes', {
      codes,
      continueAction: `/interaction/${details.uid}/mfa/enroll/done`,
    });
  }

  async done(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    if (!pending.amr.includes('mfa')) return outcome.redirect(`/interaction/${details.uid}/mfa/enroll`);
    this.deps.pending.clear(ctx, details.uid);
    return secondFactorPassed({ accountId: pending.accountId, amr: pending.amr, acr: ACR_MULTI_FACTOR });
  }
}

/** A factor's name as typed, trimmed and bounded; the default when empty. */
export function labelOf(input: string, fallback: string): string {
  const label = input.trim().replace(/\s+/g, ' ').slice(0, MAX_LABEL_LENGTH);
  return label || fallback;
}
