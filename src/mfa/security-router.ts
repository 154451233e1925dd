import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import { z } from 'zod';
import type { AccountAccess, SignedInAccount } from '../account/account-access.ts';
import { RECENT_SIGN_IN_SECONDS } from '../account/account-access.ts';
import type { AccountSignIn } from '../account/account-sign-in.ts';
import { originOf } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { formFields, parseForm, readForm, seeOther, sendJson } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { translator } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import { countryOptions, defaultCountry, displayPhone, parsePhone } from '../users/phone.ts';
import { personTimeZone } from '../users/time-zone.ts';
import { levelOfAmr, type SecondFactorMethod } from './authentication-level.ts';
import { describeFactor, smsBody } from './factor-step.ts';
import { labelOf, passkeyRegistrationForm, totpConfirmForm } from './login-enrollment.ts';
import { throttleIdentifier, WebauthnChallengeCookie } from './login-step-support.ts';
import type { Mfa } from './mfa.ts';
import { passkeyMethod } from './passkeys.ts';
import { RecoveryCodesDisplay } from './recovery-codes-display.ts';
import { maskPhone, SmsDeliveryError } from './sms/sms-sender.ts';

export interface SecurityRouterDependencies {
  config: Config;
  pages: PageRenderer;
  access: AccountAccess;
  /** For a fresh sign-in with the second factor when the current one had only the first. */
  signIn: AccountSignIn;
  mfa: Mfa;
  throttle: LoginThrottle;
  logger: Logger;
}

const removalForm = z.object({ confirm: formFields.text() });

/** The phone to enroll for SMS as typed (shown back when refused), and the country of a national number. */
const smsPhoneFields = z.object({
  phone: formFields.trimmed().transform((phone) => phone.slice(0, 40)),
  phone_country: formFields.text(),
});
/** The same, with the number in E.164: one that is not a valid mobile number is refused on `phone` (a message key). */
const smsPhoneForm = smsPhoneFields.transform((values, issues) => {
  const parsed = parsePhone(values.phone, values.phone_country);
  if (parsed.ok) return { ...values, e164: parsed.e164 };
  issues.addIssue({ code: 'custom', path: ['phone'], message: 'mfa.sms.invalid_phone' });
  return z.NEVER;
});
/** The code sent to the phone being enrolled. */
const smsCodeForm = z.object({ code: formFields.text() });

const BASE = '/account/security';
const CODES_PATH = `${BASE}/recovery-codes`;
const NOTICES = ['added', 'removed'] as const;

/**
 * /account/security: the person's second factors. Everything here needs a recent sign-in (a
 * fresh one, with the second factor when they have one): enrolling an authenticator app, a phone
 * for SMS or a passkey, removing one, and (re)generating recovery codes. Every change is emailed.
 */
export function securityRouter(deps: SecurityRouterDependencies): Router {
  const { mfa, pages } = deps;
  const router = new Router({ prefix: BASE });
  const recentSignIn = deps.access.require({ recentSeconds: RECENT_SIGN_IN_SECONDS });
  /**
   * A recent sign-in, and with the second factor when the person has one: a password alone
   * (say, on a remembered device) must not be enough to change the factors that protect it.
   */
  const withSecondFactor: Middleware = async (ctx, next) => {
    const { user, amr } = account(ctx);
    if (levelOfAmr(amr) === 'mfa' || !(await mfa.factors.hasFactors(user.id))) return next();
    if (ctx.method !== 'GET') return seeOther(ctx, ctx.path);
    deps.signIn.start(ctx, {
      returnTo: ctx.originalUrl,
      reauth: true,
      loginHint: user.email,
      locale: pages.localeOf(ctx),
    });
  };
  const recent = compose([recentSignIn, withSecondFactor]);
  const codesDisplay = new RecoveryCodesDisplay(mfa.secretBox, deps.config.secure);
  const webauthnCookie = new WebauthnChallengeCookie(deps.config.secure);
  const account = (ctx: Context) => ctx.state['account'] as SignedInAccount;
  const t = (ctx: Context) => translator(pages.localeOf(ctx));

  async function changed(
    ctx: Context,
    change: 'added' | 'removed' | 'recovery_codes',
    factorLabel?: string,
  ): Promise<void> {
    const { user } = account(ctx);
    if (change !== 'recovery_codes') await mfa.factorsChanged(user.id);
    await mfa.notifications.factorChanged(
      user,
      change,
      pages.localeOf(ctx),
      factorLabel ? { kind: change, label: factorLabel } : undefined,
      originOf(ctx),
    );
    deps.logger.info({ event: `mfa.${change}`, accountId: user.id }, 'second factors changed');
  }

  /** A first factor added: the recovery codes come with it, shown once. */
  async function addedFirstFactor(ctx: Context): Promise<boolean> {
    const { user } = account(ctx);
    if (await mfa.recoveryCodes.hasAny(user.id)) return false;
    codesDisplay.hold(ctx, CODES_PATH, user.id, await mfa.recoveryCodes.regenerate(user.id));
    return true;
  }

  async function afterAdding(ctx: Context, label: string, method: SecondFactorMethod): Promise<void> {
    await deps.access.proveSecondFactor(ctx, method);
    await changed(ctx, 'added', label);
    if (await addedFirstFactor(ctx)) return seeOther(ctx, CODES_PATH);
    seeOther(ctx, `${BASE}?saved=added`);
  }

  router.get('/', recent, async (ctx) => {
    const { user } = account(ctx);
    const factors = await mfa.factors.list(user.id);
    const tr = t(ctx);
    const timeZone = personTimeZone(user.time_zone, ctx.get('accept-language'));
    const dateFormat = new Intl.DateTimeFormat(pages.localeOf(ctx), { dateStyle: 'medium', timeZone });
    await pages.render(ctx, 'account-security', {
      factors: factors.map((f) => ({
        id: f.id,
        kind: f.kind,
        label: describeFactor(f, tr),
        added: dateFormat.format(f.createdAt),
        lastUsed: f.lastUsedAt ? dateFormat.format(f.lastUsedAt) : undefined,
      })),
      recoveryRemaining: (await mfa.recoveryCodes.hasAny(user.id))
        ? await mfa.recoveryCodes.remaining(user.id)
        : undefined,
      smsAvailable: !!mfa.sms,
      saved: NOTICES.find((n) => n === ctx.query['saved']),
      error:
        ctx.query['error'] === 'passkey' ? 'passkey' : ctx.query['error'] === 'not_found' ? 'not_found' : undefined,
    });
  });

  // Authenticator app: start (a new secret), the setup page, the confirming code.
  router.post('/totp', recent, async (ctx) => {
    const { user } = account(ctx);
    await mfa.authenticatorApp.start(user.id, user.email);
    seeOther(ctx, `${BASE}/totp`);
  });

  router.get('/totp', recent, async (ctx) => {
    const { user } = account(ctx);
    const factorId = await mfa.factors.pendingTotpId(user.id);
    const setup = factorId ? await mfa.authenticatorApp.resume(user.id, factorId, user.email) : undefined;
    if (!setup) return seeOther(ctx, BASE);
    const error = ctx.query['error'] === 'wrong' || ctx.query['error'] === 'throttled' ? ctx.query['error'] : undefined;
    await pages.render(ctx, 'mfa-totp-setup', {
      action: `${BASE}/totp/confirm`,
      cancelUrl: BASE,
      setup,
      error,
      retryAfter: Number(ctx.query['retry']) || undefined,
      defaultLabel: t(ctx)('mfa.totp.default_label'),
    });
  });

  router.get('/totp/confirm', (ctx) => seeOther(ctx, `${BASE}/totp`));
  router.post('/totp/confirm', recent, async (ctx) => {
    const { user } = account(ctx);
    const decision = await deps.throttle.check(throttleIdentifier(user.id), ctx.ip);
    if (!decision.allowed) return seeOther(ctx, `${BASE}/totp?error=throttled&retry=${decision.retryAfterSeconds}`);
    const form = readForm(ctx, totpConfirmForm);
    const factorId = await mfa.factors.pendingTotpId(user.id);
    const label = labelOf(form.label, t(ctx)('mfa.totp.default_label'));
    const outcome = factorId ? await mfa.authenticatorApp.confirm(user.id, factorId, form.code, label) : 'wrong';
    if (outcome !== 'accepted') {
      await deps.throttle.recordFailure(throttleIdentifier(user.id), ctx.ip);
      return seeOther(ctx, `${BASE}/totp?error=wrong`);
    }
    await deps.throttle.recordSuccess(throttleIdentifier(user.id), ctx.ip);
    await afterAdding(ctx, t(ctx)('mfa.kind.totp_named', { name: label }), 'otp');
  });

  // SMS: the phone, a code sent to it, the code back.
  async function showSmsForm(ctx: Context, values: { phone: string; country: string }, error?: string, status = 200) {
    const locale = pages.localeOf(ctx);
    await pages.render(ctx, 'account-security-sms', { values, error, countries: countryOptions(locale) }, status);
  }

  router.get('/sms', recent, async (ctx) => {
    if (!mfa.sms) return seeOther(ctx, BASE);
    const error =
      ctx.query['error'] === 'sms_wait' || ctx.query['error'] === 'sms_failed' || ctx.query['error'] === 'exhausted'
        ? t(ctx)(`mfa.error.${ctx.query['error']}`, { count: Number(ctx.query['retry']) || '' })
        : undefined;
    await showSmsForm(ctx, { phone: '', country: defaultCountry(pages.localeOf(ctx)) }, error);
  });

  router.post('/sms', recent, async (ctx) => {
    const sender = mfa.sms;
    if (!sender) return seeOther(ctx, BASE);
    const { user } = account(ctx);
    const typed = readForm(ctx, smsPhoneFields);
    const values = { phone: typed.phone, country: typed.phone_country };
    const form = parseForm(ctx, smsPhoneForm);
    if (!form.ok) return showSmsForm(ctx, values, t(ctx)(form.fieldErrors['phone'] ?? 'mfa.sms.invalid_phone'), 400);
    const phone = form.value.e164;
    const decision = await mfa.smsCodes.issue(user.id, 'enroll', phone);
    if (!decision.allowed) {
      ctx.set('Retry-After', String(decision.retryAfterSeconds));
      return showSmsForm(
        ctx,
        values,
        t(ctx)(decision.reason === 'exhausted' ? 'mfa.error.exhausted' : 'mfa.error.sms_wait', {
          count: decision.retryAfterSeconds,
        }),
        429,
      );
    }
    try {
      await sender.send({ to: phone, body: smsBody(deps.config, pages.localeOf(ctx), decision.code) });
    } catch (error) {
      if (!(error instanceof SmsDeliveryError)) throw error;
      deps.logger.warn({ event: 'sms.failed', err: error.message }, 'SMS code could not be sent');
      return showSmsForm(ctx, values, t(ctx)('mfa.error.sms_failed'), 502);
    }
    deps.logger.info(
      { event: 'mfa.sms_enroll_sent', accountId: user.id, to: maskPhone(phone) },
      'SMS enrollment code sent',
    );
    seeOther(ctx, `${BASE}/sms/verify`);
  });

  router.get('/sms/verify', recent, async (ctx) => {
    const { user } = account(ctx);
    const phone = await mfa.smsCodes.pendingPhone(user.id, 'enroll');
    if (!phone || !mfa.sms) return seeOther(ctx, `${BASE}/sms`);
    const errorKey = ['wrong', 'expired', 'exhausted', 'throttled'].find((e) => e === ctx.query['error']);
    // The number just typed, in full: the person checks it before waiting for a code (masked only later).
    await pages.render(ctx, 'account-security-sms-verify', {
      phone: displayPhone(phone),
      error: errorKey ? t(ctx)(`mfa.error.${errorKey}`, { count: Number(ctx.query['retry']) || '' }) : undefined,
    });
  });

  router.post('/sms/verify', recent, async (ctx) => {
    const { user } = account(ctx);
    const phone = await mfa.smsCodes.pendingPhone(user.id, 'enroll');
    if (!phone || !mfa.sms) return seeOther(ctx, `${BASE}/sms`);
    const decision = await deps.throttle.check(throttleIdentifier(user.id), ctx.ip);
    if (!decision.allowed)
      return seeOther(ctx, `${BASE}/sms/verify?error=throttled&retry=${decision.retryAfterSeconds}`);
    const outcome = await mfa.smsCodes.check(user.id, 'enroll', phone, readForm(ctx, smsCodeForm).code);
    if (outcome !== 'verified') {
      await deps.throttle.recordFailure(throttleIdentifier(user.id), ctx.ip);
      return seeOther(ctx, `${BASE}/sms/verify?error=${outcome === 'none' ? 'expired' : outcome}`);
    }
    await deps.throttle.recordSuccess(throttleIdentifier(user.id), ctx.ip);
    const factor = await mfa.factors.addSms(user.id, phone);
    await afterAdding(ctx, describeFactor(factor, t(ctx)), 'sms');
  });

  // Passkeys: options for the browser, then the credential it made.
  router.get('/passkey/options', recent, async (ctx) => {
    const { challengeId, options } = await mfa.passkeys.registrationOptions(account(ctx).user);
    webauthnCookie.set(ctx, BASE, challengeId);
    sendJson(ctx, options);
  });

  router.get('/passkey', (ctx) => seeOther(ctx, BASE));
  router.post('/passkey', recent, async (ctx) => {
    const { user } = account(ctx);
    const form = readForm(ctx, passkeyRegistrationForm);
    const label = labelOf(form.label, t(ctx)('mfa.passkey.default_label'));
    const response = form.credential;
    const challengeId = webauthnCookie.take(ctx, BASE);
    const factor = response ? await mfa.passkeys.register(user.id, challengeId, response, label) : undefined;
    if (!factor || !response) return seeOther(ctx, `${BASE}?error=passkey`);
    const passkey = await mfa.factors.passkeyByCredentialId(response.id);
    await afterAdding(ctx, describeFactor(factor, t(ctx)), passkey ? passkeyMethod(passkey) : 'swk');
  });

  // Removing a factor: a confirmation page first (no script needed), warning hard before the last.
  router.get('/factors/:id/remove', recent, async (ctx) => {
    const { user } = account(ctx);
    const factors = await mfa.factors.list(user.id);
    const factor = factors.find((f) => f.id === String(ctx.params['id']));
    if (!factor) return seeOther(ctx, `${BASE}?error=not_found`);
    await pages.render(ctx, 'mfa-remove-confirm', {
      factor: { id: factor.id, label: describeFactor(factor, t(ctx)) },
      last: factors.length === 1,
    });
  });
  router.post('/factors/:id/remove', recent, async (ctx) => {
    const { user } = account(ctx);
    // Only the confirmation page's form removes; anything else is sent to that page.
    if (readForm(ctx, removalForm).confirm !== 'yes') return seeOther(ctx, ctx.path);
    const removed = await mfa.factors.remove(user.id, String(ctx.params['id']));
    if (!removed) return seeOther(ctx, `${BASE}?error=not_found`);
    // The last factor gone: recovery codes no longer protect anything.
    if (!(await mfa.factors.hasFactors(user.id))) await mfa.recoveryCodes.removeAll(user.id);
    await changed(ctx, 'removed', describeFactor(removed, t(ctx)));
    seeOther(ctx, `${BASE}?saved=removed`);
  });

  // Recovery codes: a new set (the old one stops working), shown once.
  router.post('/recovery-codes', recent, async (ctx) => {
    const { user } = account(ctx);
    if (!(await mfa.factors.hasFactors(user.id))) return seeOther(ctx, BASE);
    codesDisplay.hold(ctx, CODES_PATH, user.id, await mfa.recoveryCodes.regenerate(user.id));
    await changed(ctx, 'recovery_codes');
    seeOther(ctx, CODES_PATH);
  });

  // Only a recent sign-in: right after the first factor is added the session has one factor, and
  // the codes made with it must still show (they are in this browser's sealed cookie, once).
  router.get('/recovery-codes', recentSignIn, async (ctx) => {
    const codes = codesDisplay.take(ctx, CODES_PATH, account(ctx).user.id);
    await pages.render(ctx, 'mfa-recovery-codes', { codes });
  });

  return router;
}
