import type { Context } from 'koa';
import { formField } from '../http/form.ts';
import { type Locale, preferredLocale, translator } from '../i18n/i18n.ts';
import type { UserRow } from '../storage/schema.ts';
import {
  EmailVerifications,
  SIGNUP_DECOY_PURPOSE,
  VERIFICATION_LIMITS,
  VERIFY_EMAIL_PURPOSE,
  type Verification,
  type VerificationData,
} from '../users/email-verification.ts';
import { UserRepository } from '../users/users.ts';
import type { InteractionDependencies, InteractionDetails } from './interactions-router.ts';
import type { FirstFactor } from './login-completion.ts';

/** The account whose email is to be verified, and where its email goes. */
export interface VerificationTarget {
  user: Pick<UserRow, 'id' | 'email' | 'name' | 'locale'>;
  /** The address as typed on this page (shown back; the same for real and decoy sign-ups). */
  typedEmail: string;
  reason: 'signup' | 'login';
  /** A sign-up with an email that already has an account: same page, but nothing can verify it. */
  decoy?: boolean;
  /** How the person signed in (e.g. ['fed'] after Google or Microsoft); absent: the password was given. */
  amr?: string[] | undefined;
}

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

/**
 * The "revisa tu correo" step inside an interaction: a 6-digit code (or the emailed link),
 * resend with limits, and the login that follows once the email is verified.
 */
export class VerificationStep {
  readonly store: EmailVerifications;
  readonly cookies: VerificationCookies;
  private readonly users: UserRepository;

  constructor(private readonly deps: InteractionDependencies) {
    this.store = new EmailVerifications(deps.storage.db);
    this.cookies = new VerificationCookies(deps.config.secure);
    this.users = new UserRepository(deps.storage.db);
  }

  /**
   * Sends the code and link (within the send limits) and moves the browser to the verification
   * page. A decoy sends nothing here: the sign-up step mails the account's owner instead.
   */
  async begin(ctx: Context, details: InteractionDetails, target: VerificationTarget): Promise<void> {
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
        await this.store.rebind(live.id, {
          uid: data.uid,
          clientId: data.clientId,
          email: data.email,
          reason: data.reason,
          amr: data.amr,
        });
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
    ctx.redirect(`/interaction/${details.uid}/verify`);
    ctx.status = 303;
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
  async resume(ctx: Context, details: InteractionDetails, userId: string): Promise<boolean> {
    const verification = await this.current(ctx, details);
    if (verification?.purpose !== VERIFY_EMAIL_PURPOSE || verification.userId !== userId) return false;
    ctx.redirect(`/interaction/${details.uid}/verify`);
    ctx.status = 303;
    return true;
  }

  /** The login, when this browser's verification for the interaction succeeded (by code, or by link anywhere). */
  async completedLogin(ctx: Context, details: InteractionDetails): Promise<FirstFactor | undefined> {
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

  async show(
    ctx: Context,
    details: InteractionDetails,
    state: { error?: string | undefined; notice?: string | undefined } = {},
    status = 200,
  ): Promise<void> {
    const verification = await this.current(ctx, details);
    if (!verification) return back(ctx, details.uid);
    const t = translator(this.deps.pages.localeOf(ctx));
    const notice = state.notice ?? (ctx.query['sent'] === '1' ? t('verify.sent') : undefined);
    await this.deps.pages.render(
      ctx,
      'verify',
      {
        uid: details.uid,
        email: verification.data.email,
        reason: verification.data.reason,
        codeMinutes: Math.round(VERIFICATION_LIMITS.codeTtlSeconds / 60),
        error: state.error,
        notice,
      },
      status,
    );
  }

  /** The code's POST: the login result when right; otherwise answers the request itself. */
  async submitCode(ctx: Context, details: InteractionDetails): Promise<FirstFactor | undefined> {
    const verification = await this.current(ctx, details);
    if (!verification) return back(ctx, details.uid);
    const done = await this.loginFor(ctx, details, verification);
    if (done) return done;
    const t = translator(this.deps.pages.localeOf(ctx));
    const code = formField(ctx, 'code').replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(code)) {
      await this.show(ctx, details, { error: t('verify.error.format') }, 400);
      return undefined;
    }
    const result = await this.store.checkCode(verification.id, code);
    if (result.outcome === 'verified') {
      this.deps.logger.info({ event: 'email_verification.verified', uid: details.uid, via: 'code' }, 'email verified');
      const login = await this.loginFor(ctx, details, result.verification);
      if (login) return login;
      return back(ctx, details.uid);
    }
    this.deps.logger.info(
      { event: 'email_verification.code_failed', uid: details.uid, outcome: result.outcome },
      'verification code refused',
    );
    await this.show(ctx, details, { error: t(`verify.error.${result.outcome}`) }, 400);
    return undefined;
  }

  /** A new code and link (the old ones stop working), within the per-user send limits. */
  async resend(ctx: Context, details: InteractionDetails): Promise<void> {
    const verification = await this.current(ctx, details);
    if (!verification) return back(ctx, details.uid);
    // Verified meanwhile (the link, opened on another device): no new code; the step's page completes the sign-in.
    if (verification.data.verified === true) return back(ctx, details.uid);
    const allowance = await this.store.sendAllowance(verification.userId);
    if (!allowance.allowed) {
      const t = translator(this.deps.pages.localeOf(ctx));
      ctx.set('Retry-After', String(allowance.retryAfterSeconds));
      return this.show(
        ctx,
        details,
        { error: t('verify.error.resend_wait', { seconds: allowance.retryAfterSeconds }) },
        429,
      );
    }
    const { verified: _verified, via: _via, ...data } = verification.data;
    const issued = await this.store.issue(verification.userId, verification.purpose, { ...data, sent: true });
    if (verification.purpose === VERIFY_EMAIL_PURPOSE) {
      const user = await this.users.findById(verification.userId);
      if (user) await this.sendCode(ctx, user, issued.token, issued.code);
    }
    this.cookies.set(ctx, details.uid, issued.verification.id);
    this.deps.logger.info({ event: 'email_verification.resent', uid: details.uid }, 'verification code resent');
    ctx.redirect(`/interaction/${details.uid}/verify?sent=1`);
    ctx.status = 303;
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

function back(ctx: Context, uid: string): undefined {
  ctx.redirect(`/interaction/${uid}`);
  ctx.status = 303;
  return undefined;
}
