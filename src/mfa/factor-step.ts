import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Context } from 'koa';
import { formField } from '../http/form.ts';
import { translator } from '../i18n/i18n.ts';
import type { InteractionDetails } from '../interactions/interactions-router.ts';
import { ACR_MULTI_FACTOR, type SecondFactorMethod, withSecondFactor } from './authentication-level.ts';
import type { Factor } from './factor-repository.ts';
import {
  type LoginStepDependencies,
  seeOther,
  sendJson,
  throttleIdentifier,
  WebauthnChallengeCookie,
} from './login-step-support.ts';
import { parseCredentialJson, passkeyMethod } from './passkeys.ts';
import type { PendingSecondFactor } from './pending-second-factor.ts';
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

/** A choice on the factor step: one enrolled factor, or a recovery code. */
interface MethodChoice {
  id: string;
  kind: Factor['kind'] | 'recovery';
  label: string;
}

/**
 * The second step of a sign-in: the user picks one of their factors (the one used last comes
 * first) and proves it: an authenticator-app code, an SMS code, a passkey, or a recovery code.
 * Every check is throttled like a password; a wrong code answers 303 back with the error.
 */
export class FactorStep {
  private readonly webauthnCookie: WebauthnChallengeCookie;

  constructor(private readonly deps: LoginStepDependencies) {
    this.webauthnCookie = new WebauthnChallengeCookie(deps.config.secure);
  }

  /** The first factor this browser passed in this interaction; else back to the login's start. */
  pending(ctx: Context, details: InteractionDetails): PendingSecondFactor | undefined {
    const pending = this.deps.gate.pending.get(ctx, details.uid);
    if (!pending || pending.enroll) {
      seeOther(ctx, `/interaction/${details.uid}`);
      return undefined;
    }
    return pending;
  }

  private async choices(accountId: string, locale: Parameters<typeof translator>[0]): Promise<MethodChoice[]> {
    const t = translator(locale);
    const factors = await this.deps.mfa.factors.list(accountId);
    const usable = factors.filter((f) => f.kind !== 'sms' || this.deps.mfa.sms);
    const choices: MethodChoice[] = usable.map((f) => ({ id: f.id, kind: f.kind, label: describeFactor(f, t) }));
    if (await this.deps.mfa.recoveryCodes.hasAny(accountId))
      choices.push({ id: 'recovery', kind: 'recovery', label: t('mfa.kind.recovery') });
    return choices;
  }

  async show(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const choices = await this.choices(pending.accountId, this.deps.pages.localeOf(ctx));
    const wanted = typeof ctx.query['method'] === 'string' ? ctx.query['method'] : undefined;
    const current = choices.find((c) => c.id === wanted) ?? choices[0];
    if (!current) return seeOther(ctx, `/interaction/${details.uid}`);
    const error = ERRORS.find((e) => e === ctx.query['error']);
    const retryAfter = Number(ctx.query['retry']) || undefined;
    let smsPending = false;
    if (current.kind === 'sms') {
      const factor = await this.deps.mfa.factors.find(pending.accountId, current.id);
      smsPending = !!factor?.phone && (await this.deps.mfa.smsCodes.pending(pending.accountId, 'login', factor.phone));
    }
    await this.deps.pages.render(ctx, 'mfa-challenge', {
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

  private back(ctx: Context, uid: string, method: string, error: StepError, extra: Record<string, string> = {}): void {
    seeOther(ctx, `/interaction/${uid}/mfa?${new URLSearchParams({ method, error, ...extra })}`);
  }

  /** Throttled like a password: false (and the request answered) while the wait lasts. */
  private async allowed(ctx: Context, uid: string, pending: PendingSecondFactor, method: string): Promise<boolean> {
    const decision = await this.deps.throttle.check(throttleIdentifier(pending.accountId), ctx.ip);
    if (decision.allowed) return true;
    ctx.set('Retry-After', String(decision.retryAfterSeconds));
    this.back(ctx, uid, method, 'throttled', { retry: String(decision.retryAfterSeconds) });
    return false;
  }

  private async failed(
    ctx: Context,
    uid: string,
    pending: PendingSecondFactor,
    method: string,
    error: StepError,
  ): Promise<void> {
    await this.deps.throttle.recordFailure(throttleIdentifier(pending.accountId), ctx.ip);
    this.deps.logger.info(
      { event: 'mfa.failed', uid, accountId: pending.accountId, outcome: error },
      'second factor refused',
    );
    this.back(ctx, uid, method, error);
  }

  /** The factor held: remember the device if asked, and sign in with both factors. */
  private async passed(
    ctx: Context,
    details: InteractionDetails,
    pending: PendingSecondFactor,
    method: SecondFactorMethod,
  ): Promise<void> {
    await this.deps.throttle.recordSuccess(throttleIdentifier(pending.accountId), ctx.ip);
    this.deps.gate.pending.clear(ctx, details.uid);
    if (formField(ctx, 'remember') === '1') await this.deps.mfa.rememberedDevices.remember(ctx, pending.accountId);
    this.deps.logger.info(
      { event: 'mfa.succeeded', uid: details.uid, accountId: pending.accountId, method },
      'second factor passed',
    );
    await this.deps.completion.signIn(ctx, details, {
      accountId: pending.accountId,
      amr: withSecondFactor(pending.amr, method),
      acr: ACR_MULTI_FACTOR,
    });
  }

  async submitTotp(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const factorId = formField(ctx, 'factor');
    if (!(await this.allowed(ctx, details.uid, pending, factorId))) return;
    const outcome = await this.deps.mfa.authenticatorApp.verify(pending.accountId, factorId, formField(ctx, 'code'));
    if (outcome !== 'accepted') return this.failed(ctx, details.uid, pending, factorId, outcome);
    await this.passed(ctx, details, pending, 'otp');
  }

  async sendSms(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const factorId = formField(ctx, 'factor');
    const factor = await this.deps.mfa.factors.find(pending.accountId, factorId);
    const sender = this.deps.mfa.sms;
    if (!factor?.phone || factor.kind !== 'sms' || !sender) return this.back(ctx, details.uid, factorId, 'sms_none');
    const decision = await this.deps.mfa.smsCodes.issue(pending.accountId, 'login', factor.phone);
    if (!decision.allowed) {
      ctx.set('Retry-After', String(decision.retryAfterSeconds));
      return this.back(ctx, details.uid, factorId, decision.reason === 'exhausted' ? 'exhausted' : 'sms_wait', {
        retry: String(decision.retryAfterSeconds),
      });
    }
    try {
      await sender.send({ to: factor.phone, body: smsBody(this.deps, this.deps.pages.localeOf(ctx), decision.code) });
    } catch (error) {
      if (!(error instanceof SmsDeliveryError)) throw error;
      this.deps.logger.warn(
        { event: 'sms.failed', uid: details.uid, err: error.message },
        'SMS code could not be sent',
      );
      return this.back(ctx, details.uid, factorId, 'sms_failed');
    }
    this.deps.logger.info({ event: 'mfa.sms_sent', uid: details.uid, to: maskPhone(factor.phone) }, 'SMS code sent');
    seeOther(ctx, `/interaction/${details.uid}/mfa?${new URLSearchParams({ method: factorId, sent: '1' })}`);
  }

  async submitSms(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const factorId = formField(ctx, 'factor');
    const factor = await this.deps.mfa.factors.find(pending.accountId, factorId);
    if (!factor?.phone || factor.kind !== 'sms' || !this.deps.mfa.sms)
      return this.back(ctx, details.uid, factorId, 'sms_none');
    if (!(await this.allowed(ctx, details.uid, pending, factorId))) return;
    const outcome = await this.deps.mfa.smsCodes.check(
      pending.accountId,
      'login',
      factor.phone,
      formField(ctx, 'code'),
    );
    if (outcome !== 'verified')
      return this.failed(ctx, details.uid, pending, factorId, outcome === 'none' ? 'expired' : outcome);
    await this.deps.mfa.factors.touch(factor.id);
    await this.passed(ctx, details, pending, 'sms');
  }

  async submitRecoveryCode(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    if (!(await this.allowed(ctx, details.uid, pending, 'recovery'))) return;
    if (!(await this.deps.mfa.recoveryCodes.use(pending.accountId, formField(ctx, 'code')))) {
      return this.failed(ctx, details.uid, pending, 'recovery', 'wrong');
    }
    // RFC 8176 has no method for recovery codes: they are one-time passwords.
    await this.passed(ctx, details, pending, 'otp');
  }

  async passkeyOptions(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.deps.gate.pending.get(ctx, details.uid);
    if (!pending || pending.enroll) {
      ctx.status = 409;
      return sendJson(ctx, { error: 'no_pending_sign_in' });
    }
    const { challengeId, options } = await this.deps.mfa.passkeys.authenticationOptions(
      'second_factor',
      pending.accountId,
    );
    this.webauthnCookie.set(ctx, `/interaction/${details.uid}`, challengeId);
    sendJson(ctx, options);
  }

  async submitPasskey(ctx: Context, details: InteractionDetails): Promise<void> {
    const pending = this.pending(ctx, details);
    if (!pending) return;
    const method = formField(ctx, 'factor') || 'passkey';
    if (!(await this.allowed(ctx, details.uid, pending, method))) return;
    const response = parseCredentialJson<AuthenticationResponseJSON>(formField(ctx, 'credential'));
    const challengeId = this.webauthnCookie.take(ctx, `/interaction/${details.uid}`);
    const result = response
      ? await this.deps.mfa.passkeys.verifyAssertion('second_factor', challengeId, response, pending.accountId)
      : undefined;
    if (!result?.ok) return this.failed(ctx, details.uid, pending, method, 'passkey');
    await this.passed(ctx, details, pending, passkeyMethod(result.passkey));
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
  deps: Pick<LoginStepDependencies, 'config'>,
  locale: Parameters<typeof translator>[0],
  code: string,
): string {
  const t = translator(locale);
  return `${t('mfa.sms.body', { product: deps.config.productName, code })}\n\n@${new URL(deps.config.issuer).hostname} #${code}`;
}
