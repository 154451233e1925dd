import type { Context } from 'koa';
import { z } from 'zod';
import { formFields, readForm } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { type Locale, preferredLocale, translator } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { UserRow } from '../storage/schema.ts';
import {
  type EmailVerifications,
  SIGNUP_DECOY_PURPOSE,
  VERIFICATION_LIMITS,
  VERIFY_EMAIL_PURPOSE,
  type Verification,
  type VerificationData,
} from '../users/email-verification.ts';
import type { UserRepository } from '../users/users.ts';
import {
  type EmailVerificationStart,
  type FirstFactor,
  type InteractionDetails,
  type InteractionRoute,
  isSigningIn,
  outcome,
  type SignInStep,
  type StepOutcome,
  type VerificationTarget,
} from './interaction.ts';

export type { VerificationTarget };

/**
 * Cookies naming the verification this browser started. Signed and HttpOnly; the interaction
 * one is scoped to the interaction's path and is the proof that this browser gave the password
 * (at sign-up or login), so the login completes without asking it again once the email is verified.
 * The /verify-email one tells the link page that the link was opened in the same browser.
 */
export class VerificationCookies {
  readonly interactionName: string;
  readonly linkName: string;

  constructor(private readonly secure: boolean) {
    this.interactionName = secure ? '__Secure-umbral.verify' : 'umbral.verify';
    this.linkName = secure ? '__Secure-umbral.verify-link' : 'umbral.verify-link';
  }

  private base() {
    return { signed: true, httpOnly: true, sameSite: 'lax' as const, secure: this.secure, overwrite: true };
  }

  get(ctx: Context): string | undefined {
    return ctx.cookies.get(this.interactionName, { signed: true }) || undefined;
  }

  getFromLink(ctx: Context): string | undefined {
    return ctx.cookies.get(this.linkName, { signed: true }) || undefined;
  }

  set(ctx: Context, uid: string, id: string): void {
    ctx.cookies.set(this.interactionName, id, { ...this.base(), path: `/interaction/${uid}`, maxAge: 60 * 60 * 1000 });
    ctx.cookies.set(this.linkName, id, {
      ...this.base(),
      path: '/verify-email',
      maxAge: VERIFICATION_LIMITS.linkTtlSeconds * 1000,
    });
  }

  clear(ctx: Context, uid: string): void {
    ctx.cookies.set(this.interactionName, '', { ...this.base(), path: `/interaction/${uid}`, maxAge: 0 });
    ctx.cookies.set(this.linkName, '', { ...this.base(), path: '/verify-email', maxAge: 0 });
  }
}

export interface VerificationStepDependencies {
  config: { issuer: string; secure: boolean };
  pages: Pick<PageRenderer, 'localeOf'>;
  mailer: Mailer;
  logger: Logger;
  users: UserRepository;
  verifications: EmailVerifications;
}

const codeForm = z.object({ code: formFields.text() });

/**
 * The "revisa tu correo" step inside an interaction: a 6-digit code (or the emailed link),
 * resend with limits, and the login that follows once the email is verified.
 */
export class VerificationStep implements SignInStep, EmailVerificationStart {
  readonly name = 'email-verification';
  readonly routes: readonly InteractionRoute[];
  readonly cookies: VerificationCookies;
  private readonly store: EmailVerifications;
  private readonly users: UserRepository;

  constructor(private readonly deps: VerificationStepDependencies) {
    this.store = deps.verifications;
    this.users = deps.users;
    this.cookies = new VerificationCookies(deps.config.secure);
    this.routes = [
      { method: 'get', path: '/verify', handle: (ctx, details) => this.showOrComplete(ctx, details) },
      { method: 'post', path: '/verify', handle: (ctx, details) => this.submitCode(ctx, details) },
      { method: 'post', path: '/verify/resend', handle: (ctx, details) => this.resend(ctx, details) },
    ];
  }

  /** Back from the emailed link in this browser, or verified meanwhile: the sign-in goes on. */
  async resume(ctx: Context, details: InteractionDetails): Promise<StepOutcome | undefined> {
    if (!isSigningIn(details)) return undefined;
    const verified = await this.completedLogin(ctx, details);
    return verified ? outcome.login(verified) : undefined;
  }

  /**
   * Sends the code and link (within the send limits) and moves the browser to the verification
   * page. A decoy sends nothing here: the sign-up step mails the account's owner instead.
   */
  async begin(ctx: Context, details: InteractionDetails, target: VerificationTarget): Promise<StepOutcome> {
    const purpose = target.decoy ? SIGNUP_DECOY_PURPOSE : VERIFY_EMAIL_PURPOSE;
    const data: VerificationData = {
      uid: details.uid,
      clientId: String(details.params['client_id']),
      email: target.typedEmail,
      reason: target.reason,
      sent: true,
      ...(target.amr ? { amr: target.amr } : {}),
    };
    const allowance = await this.store.sendAllowance(target.user.id);
    let id: string;
    if (allowance.allowed) {
      const issued = await this.store.issue(target.user.id, purpose, data);
      if (!target.decoy) await this.sendCode(ctx, target.user, issued.token, issued.code);
      id = issued.verification.id;
    } else {
      // Too many emails already: the code and link last sent still work, here too.
      const live = target.decoy ? undefined : await this.store.latestLive(target.user.id);
      if (live) {
        const { uid, clientId, email, reason, amr } = data;
        await this.store.rebind(live.id, { uid, clientId, email, reason, amr });
        id = live.id;
      } else {
        id = (await this.store.issue(target.user.id, purpose, { ...data, sent: false })).verification.id;
      }
    }
    this.cookies.set(ctx, details.uid, id);
    this.deps.logger.info(
      { event: 'email_verification.started', uid: details.uid, reason: target.reason },
      'email verification started',
    );
    return outcome.redirect(`/interaction/${details.uid}/verify`);
  }

  /** This browser's verification for this interaction, if any. */
  private async current(ctx: Context, details: InteractionDetails): Promise<Verification | undefined> {
    const id = this.cookies.get(ctx);
    if (!id) return undefined;
    const verification = await this.store.find(id);
    return verification?.data.uid === details.uid ? verification : undefined;
  }

  /**
   * Someone signed up with the email of an existing account: its owner is told (within the same
   * sending limits as verification mail), with a way to reset the password.
   */
  async warnExistingOwner(owner: Pick<UserRow, 'id' | 'email' | 'locale'>, locale: Locale): Promise<void> {
    const allowance = await this.store.sendAllowance(owner.id);
    if (!allowance.allowed) return;
    await this.deps.mailer.enqueue({
      to: owner.email,
      template: 'signup-existing-account',
      locale: preferredLocale(owner.locale, locale),
      data: { email: owner.email, forgotUrl: `${this.deps.config.issuer}/password/forgot` },
    });
  }

  /**
   * A sign-up sent again from this browser (back button, double submit) for the account it created
   * in this interaction: back to its own verification page, where the code already mailed works.
   * A stand-in there would refuse every code. Nothing leaks: only the browser that created the
   * account holds a verification of it for this interaction.
   */
  async resumeSignUp(ctx: Context, details: InteractionDetails, userId: string): Promise<StepOutcome | undefined> {
    const verification = await this.current(ctx, details);
    if (verification?.purpose !== VERIFY_EMAIL_PURPOSE || verification.userId !== userId) return undefined;
    return outcome.redirect(`/interaction/${details.uid}/verify`);
  }

  /** The login, when this browser's verification for the interaction succeeded (by code, or by link anywhere). */
  private async completedLogin(ctx: Context, details: InteractionDetails): Promise<FirstFactor | undefined> {
    const verification = await this.current(ctx, details);
    if (!verification) return undefined;
    return this.loginFor(ctx, details, verification);
  }

  private async loginFor(
    ctx: Context,
    details: InteractionDetails,
    verification: Verification,
  ): Promise<FirstFactor | undefined> {
    if (verification.purpose !== VERIFY_EMAIL_PURPOSE || verification.data.verified !== true) return undefined;
    const user = await this.users.findById(verification.userId);
    if (!user || user.disabled || !user.email_verified) return undefined;
    this.cookies.clear(ctx, details.uid);
    await this.users.recordLogin(user.id);
    this.deps.logger.info(
      { event: 'login.succeeded', uid: details.uid, accountId: user.id, via: 'email_verification' },
      'login after email verification',
    );
    // The password (or, when amr says so, an upstream sign-in) was given in this interaction, before the verification.
    return { accountId: user.id, amr: verification.data.amr ?? ['pwd'] };
  }

  private async showOrComplete(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const verified = await this.completedLogin(ctx, details);
    if (verified) return outcome.login(verified);
    return this.page(ctx, details);
  }

  private async page(
    ctx: Context,
    details: InteractionDetails,
    state: { error?: string | undefined; resendError?: string | undefined; notice?: string | undefined } = {},
    status = 200,
    headers?: Record<string, string>,
  ): Promise<StepOutcome> {
    const verification = await this.current(ctx, details);
    if (!verification) return outcome.back(details.uid);
    const t = translator(this.deps.pages.localeOf(ctx));
    const notice = state.notice ?? (ctx.query['sent'] === '1' ? t('verify.sent') : undefined);
    const locals = {
      uid: details.uid,
      email: verification.data.email,
      reason: verification.data.reason,
      codeMinutes: Math.round(VERIFICATION_LIMITS.codeTtlSeconds / 60),
      error: state.error,
      resendError: state.resendError,
      notice,
    };
    return outcome.page('verify', locals, status, headers);
  }

  /** The code's POST: the login when right; otherwise the page with the reason. */
  private async submitCode(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const verification = await this.current(ctx, details);
    if (!verification) return outcome.back(details.uid);
    const done = await this.loginFor(ctx, details, verification);
    if (done) return outcome.login(done);
    const t = translator(this.deps.pages.localeOf(ctx));
    const code = readForm(ctx, codeForm).code.replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(code)) return this.page(ctx, details, { error: t('verify.error.format') }, 400);
    const result = await this.store.checkCode(verification.id, code);
    if (result.outcome === 'verified') {
      this.deps.logger.info({ event: 'email_verification.verified', uid: details.uid, via: 'code' }, 'email verified');
      const login = await this.loginFor(ctx, details, result.verification);
      return login ? outcome.login(login) : outcome.back(details.uid);
    }
    this.deps.logger.info(
      { event: 'email_verification.code_failed', uid: details.uid, outcome: result.outcome },
      'verification code refused',
    );
    return this.page(ctx, details, { error: t(`verify.error.${result.outcome}`) }, 400);
  }

  /** A new code and link (the old ones stop working), within the per-user send limits. */
  private async resend(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const verification = await this.current(ctx, details);
    if (!verification) return outcome.back(details.uid);
    // Verified meanwhile (the link, opened on another device): no new code; the step's page completes the sign-in.
    if (verification.data.verified === true) return outcome.back(details.uid);
    const allowance = await this.store.sendAllowance(verification.userId);
    if (!allowance.allowed) {
      const t = translator(this.deps.pages.localeOf(ctx));
      const resendError = t('verify.error.resend_wait', { count: allowance.retryAfterSeconds });
      return this.page(ctx, details, { resendError }, 429, { 'Retry-After': String(allowance.retryAfterSeconds) });
    }
    const { verified: _verified, via: _via, ...data } = verification.data;
    const issued = await this.store.issue(verification.userId, verification.purpose, { ...data, sent: true });
    if (verification.purpose === VERIFY_EMAIL_PURPOSE) {
      const user = await this.users.findById(verification.userId);
      if (user) await this.sendCode(ctx, user, issued.token, issued.code);
    }
    this.cookies.set(ctx, details.uid, issued.verification.id);
    this.deps.logger.info({ event: 'email_verification.resent', uid: details.uid }, 'verification code resent');
    return outcome.redirect(`/interaction/${details.uid}/verify?sent=1`);
  }

  private async sendCode(ctx: Context, user: VerificationTarget['user'], token: string, code: string): Promise<void> {
    await this.deps.mailer.enqueue({
      to: user.email,
      template: 'verify-email',
      // The person is on the page now: their mail speaks the page's language.
      locale: this.deps.pages.localeOf(ctx),
      data: {
        name: user.name ?? user.email,
        code,
        verifyUrl: `${this.deps.config.issuer}/verify-email?token=${encodeURIComponent(token)}`,
        codeMinutes: Math.round(VERIFICATION_LIMITS.codeTtlSeconds / 60),
        linkHours: Math.round(VERIFICATION_LIMITS.linkTtlSeconds / 3600),
      },
    });
  }
}
