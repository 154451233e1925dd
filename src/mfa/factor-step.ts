import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Context } from 'koa';
import { z } from 'zod';
import { originOf } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { formFields, readForm } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { translator } from '../i18n/i18n.ts';
import { type InteractionDetails, outcome, type StepOutcome } from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import { ACR_MULTI_FACTOR, type SecondFactorMethod, withSecondFactor } from './authentication-level.ts';
import type { Factor } from './factor-repository.ts';
import { throttleIdentifier, WebauthnChallengeCookie } from './login-step-support.ts';
import type { Mfa } from './mfa.ts';
import { parseCredentialJson, passkeyMethod } from './passkeys.ts';
import {
  type PendingSecondFactor,
  type PendingSecondFactorCookie,
  secondFactorPassed,
} from './pending-second-factor.ts';
import { REMEMBER_DEVICE_DAYS } from './remembered-devices.ts';
import { SMS_CODE_LIMITS } from './sms/sms-codes.ts';
import { maskPhone, SmsDeliveryError } from './sms/sms-sender.ts';

const ERRORS = [
  'wrong',
  'replayed',
  'expired',
  'exhausted',
  'throttled',
  'sms_wait',
  'sms_failed',
  'sms_none',
  'passkey',
] as const;
type StepError = (typeof ERRORS)[number];

/** The "remember this device" checkbox (value="1"). */
const rememberField = formFields.text().transform((value) => value === '1');

/** A code typed for a factor (authenticator app, SMS) or a recovery code; checked by the factor, not here. */
const codeForm = z.object({ factor: formFields.text(), code: formFields.text(), remember: rememberField });
/** "Send me a code" for an SMS factor. */
const sendSmsForm = z.object({ factor: formFields.text() });
/** The assertion the WebAuthn script put in the form; malformed JSON reads as no credential (and fails). */
const passkeyForm = z.object({
  factor: formFields.text(),
  credential: formFields.text().transform((raw) => parseCredentialJson<AuthenticationResponseJSON>(raw)),
  remember: rememberField,
});

export interface FactorStepDependencies {
  config: Pick<Config, 'secure' | 'productName' | 'issuer'>;
  pages: Pick<PageRenderer, 'localeOf'>;
  throttle: LoginThrottle;
  logger: Logger;
  mfa: Mfa;
  pending: PendingSecondFactorCookie;
}

/** A choice on the factor step: one enrolled factor, or a recovery code. */
interface MethodChoice {
  id: string;
  kind: Factor['kind'] | 'recovery';
  label: string;
  /** What tells it apart without repeating its kind (the app's or passkey's name, the masked number): the lead names it. */
  detail: string | undefined;
}

/**
 * The second step of a sign-in: the user picks one of their factors (the one used last comes
 * first) and proves it: an authenticator-app code, an SMS code, a passkey, or a recovery code.
 * Every check is throttled like a password; a wrong code answers 303 back with the error.
 */
export class FactorStep {
  private readonly webauthnCookie: WebauthnChallengeCookie;

  constructor(private readonly deps: FactorStepDependencies) {
    this.webauthnCookie = new WebauthnChallengeCookie(deps.config.secure);
  }

  /** The first factor this browser passed in this interaction, waiting for the second; else undefined. */
  private pending(ctx: Context, details: InteractionDetails): PendingSecondFactor | undefined {
    const pending = this.deps.pending.get(ctx, details.uid);
    return pending && !pending.enroll ? pending : undefined;
  }

  private async choices(accountId: string, locale: Parameters<typeof translator>[0]): Promise<MethodChoice[]> {
    const t = translator(locale);
    const factors = await this.deps.mfa.factors.list(accountId);
    const usable = factors.filter((f) => f.kind !== 'sms' || this.deps.mfa.sms);
    const choices: MethodChoice[] = usable.map((f) => ({
      id: f.id,
      kind: f.kind,
      label: describeFactor(f, t),
      detail: (f.kind === 'sms' ? maskPhone(f.phone ?? '') : f.label) || undefined,
    }));
    if (await this.deps.mfa.recoveryCodes.hasAny(accountId))
      choices.push({ id: 'recovery', kind: 'recovery', label: t('mfa.kind.recovery'), detail: undefined });
    return choices;
  }

  async show(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const choices = await this.choices(pending.accountId, this.deps.pages.localeOf(ctx));
    const wanted = typeof ctx.query['method'] === 'string' ? ctx.query['method'] : undefined;
    const current = choices.find((c) => c.id === wanted) ?? choices[0];
    if (!current) return outcome.back(details.uid);
    const error = ERRORS.find((e) => e === ctx.query['error']);
    const retryAfter = Number(ctx.query['retry']) || undefined;
    let smsPending = false;
    if (current.kind === 'sms') {
      const factor = await this.deps.mfa.factors.find(pending.accountId, current.id);
      smsPending = !!factor?.phone && (await this.deps.mfa.smsCodes.pending(pending.accountId, 'login', factor.phone));
    }
    return outcome.page('mfa-challenge', {
      uid: details.uid,
      current,
      others: choices.filter((c) => c !== current),
      error,
      retryAfter,
      smsPending,
      smsSent: ctx.query['sent'] === '1',
      codeMinutes: SMS_CODE_LIMITS.codeTtlSeconds / 60,
      rememberDays: REMEMBER_DEVICE_DAYS,
    });
  }

  /** Back to the factor step, on the method tried, saying what went wrong. */
  /** Back to the factor step with the error; a wait (`retry` seconds) is also said in Retry-After. */
  private factorPage(uid: string, method: string, error: StepError, extra: { retry?: string } = {}): StepOutcome {
    const location = `/interaction/${uid}/mfa?${new URLSearchParams({ method, error, ...extra })}`;
    return outcome.redirect(location, extra.retry ? { 'Retry-After': extra.retry } : undefined);
  }

  /** Throttled like a password: the way back to the factor step while the wait lasts, else undefined. */
  private async throttled(
    ctx: Context,
    uid: string,
    pending: PendingSecondFactor,
    method: string,
  ): Promise<StepOutcome | undefined> {
    const decision = await this.deps.throttle.check(throttleIdentifier(pending.accountId), ctx.ip);
    if (decision.allowed) return undefined;
    return this.factorPage(uid, method, 'throttled', { retry: String(decision.retryAfterSeconds) });
  }

  private async failed(
    ctx: Context,
    uid: string,
    pending: PendingSecondFactor,
    method: string,
    error: StepError,
  ): Promise<StepOutcome> {
    await this.deps.throttle.recordFailure(throttleIdentifier(pending.accountId), ctx.ip);
    this.deps.logger.info(
      { event: 'mfa.failed', uid, accountId: pending.accountId, outcome: error },
      'second factor refused',
    );
    this.deps.mfa.audit.record({
      type: 'mfa.failed',
      actor: { kind: 'user', id: pending.accountId },
      subjectUserId: pending.accountId,
      ...originOf(ctx),
      data: { factor: method === 'recovery' ? 'recovery_code' : method, outcome: error },
    });
    return this.factorPage(uid, method, error);
  }

  /** The factor held: remember the device if asked, and the sign-in goes on with both factors. */
  private async passed(
    ctx: Context,
    details: InteractionDetails,
    pending: PendingSecondFactor,
    method: SecondFactorMethod,
    remember: boolean,
    recoveryCode = false,
  ): Promise<StepOutcome> {
    this.deps.mfa.audit.record({
      // A recovery code is its own type: one of ten spent, which its owner should hear about.
      type: recoveryCode ? 'mfa.recovery_code_used' : 'mfa.used',
      actor: { kind: 'user', id: pending.accountId },
      subjectUserId: pending.accountId,
      ...originOf(ctx),
      data: {
        method,
        via: recoveryCode ? 'recovery_code' : 'factor',
        remember,
        portal: String(details.params['client_id'] ?? ''),
      },
    });
    await this.deps.throttle.recordSuccess(throttleIdentifier(pending.accountId), ctx.ip);
    this.deps.pending.clear(ctx, details.uid);
    if (remember) await this.deps.mfa.rememberedDevices.remember(ctx, pending.accountId);
    this.deps.logger.info(
      { event: 'mfa.succeeded', uid: details.uid, accountId: pending.accountId, method },
      'second factor passed',
    );
    return secondFactorPassed({
      accountId: pending.accountId,
      amr: withSecondFactor(pending.amr, method),
      acr: ACR_MULTI_FACTOR,
    });
  }

  async submitTotp(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const form = readForm(ctx, codeForm);
    const throttled = await this.throttled(ctx, details.uid, pending, form.factor);
    if (throttled) return throttled;
    const verdict = await this.deps.mfa.authenticatorApp.verify(pending.accountId, form.factor, form.code);
    if (verdict !== 'accepted') return this.failed(ctx, details.uid, pending, form.factor, verdict);
    return this.passed(ctx, details, pending, 'otp', form.remember);
  }

  async sendSms(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const factorId = readForm(ctx, sendSmsForm).factor;
    const factor = await this.deps.mfa.factors.find(pending.accountId, factorId);
    const sender = this.deps.mfa.sms;
    if (!factor?.phone || factor.kind !== 'sms' || !sender) return this.factorPage(details.uid, factorId, 'sms_none');
    const decision = await this.deps.mfa.smsCodes.issue(pending.accountId, 'login', factor.phone);
    if (!decision.allowed) {
      return this.factorPage(details.uid, factorId, decision.reason === 'exhausted' ? 'exhausted' : 'sms_wait', {
        retry: String(decision.retryAfterSeconds),
      });
    }
    try {
      await sender.send({
        to: factor.phone,
        body: smsBody(this.deps.config, this.deps.pages.localeOf(ctx), decision.code),
      });
    } catch (error) {
      if (!(error instanceof SmsDeliveryError)) throw error;
      this.deps.logger.warn(
        { event: 'sms.failed', uid: details.uid, err: error.message },
        'SMS code could not be sent',
      );
      return this.factorPage(details.uid, factorId, 'sms_failed');
    }
    this.deps.logger.info({ event: 'mfa.sms_sent', uid: details.uid, to: maskPhone(factor.phone) }, 'SMS code sent');
    return outcome.redirect(`/interaction/${details.uid}/mfa?${new URLSearchParams({ method: factorId, sent: '1' })}`);
  }

  async submitSms(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const form = readForm(ctx, codeForm);
    const factor = await this.deps.mfa.factors.find(pending.accountId, form.factor);
    if (!factor?.phone || factor.kind !== 'sms' || !this.deps.mfa.sms)
      return this.factorPage(details.uid, form.factor, 'sms_none');
    const throttled = await this.throttled(ctx, details.uid, pending, form.factor);
    if (throttled) return throttled;
    const verdict = await this.deps.mfa.smsCodes.check(pending.accountId, 'login', factor.phone, form.code);
    if (verdict !== 'verified')
      return this.failed(ctx, details.uid, pending, form.factor, verdict === 'none' ? 'expired' : verdict);
    await this.deps.mfa.factors.touch(factor.id);
    return this.passed(ctx, details, pending, 'sms', form.remember);
  }

  async submitRecoveryCode(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const form = readForm(ctx, codeForm);
    const throttled = await this.throttled(ctx, details.uid, pending, 'recovery');
    if (throttled) return throttled;
    if (!(await this.deps.mfa.recoveryCodes.use(pending.accountId, form.code))) {
      return this.failed(ctx, details.uid, pending, 'recovery', 'wrong');
    }
    // RFC 8176 has no method for recovery codes: they are one-time passwords.
    return this.passed(ctx, details, pending, 'otp', form.remember, true);
  }

  async passkeyOptions(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) {
      return outcome.json({ error: 'no_pending_sign_in' }, 409);
    }
    const { challengeId, options } = await this.deps.mfa.passkeys.authenticationOptions(
      'second_factor',
      pending.accountId,
    );
    this.webauthnCookie.set(ctx, `/interaction/${details.uid}`, challengeId);
    return outcome.json(options);
  }

  async submitPasskey(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const pending = this.pending(ctx, details);
    if (!pending) return outcome.back(details.uid);
    const form = readForm(ctx, passkeyForm);
    const method = form.factor || 'passkey';
    const throttled = await this.throttled(ctx, details.uid, pending, method);
    if (throttled) return throttled;
    const challengeId = this.webauthnCookie.take(ctx, `/interaction/${details.uid}`);
    const result = form.credential
      ? await this.deps.mfa.passkeys.verifyAssertion('second_factor', challengeId, form.credential, pending.accountId)
      : undefined;
    if (!result?.ok) return this.failed(ctx, details.uid, pending, method, 'passkey');
    return this.passed(ctx, details, pending, passkeyMethod(result.passkey), form.remember);
  }
}

export function describeFactor(factor: Factor, t: ReturnType<typeof translator>): string {
  if (factor.kind === 'sms') return t('mfa.kind.sms_to', { phone: maskPhone(factor.phone ?? '') });
  if (factor.kind === 'passkey') return t('mfa.kind.passkey_named', { name: factor.label ?? '' });
  return factor.label ? t('mfa.kind.totp_named', { name: factor.label }) : t('mfa.kind.totp');
}

/**
 * The SMS: the code, a warning, and the origin-bound line (WebOTP: "@host #code") that lets
 * browsers offer the code only on Umbral's own pages.
 */
export function smsBody(
  config: Pick<Config, 'productName' | 'issuer'>,
  locale: Parameters<typeof translator>[0],
  code: string,
): string {
  const t = translator(locale);
  return `${t('mfa.sms.body', { product: config.productName, code })}\n\n@${new URL(config.issuer).hostname} #${code}`;
}
