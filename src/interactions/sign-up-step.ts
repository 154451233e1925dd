import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { formFields, readForm } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { translator } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { FixedWindowCounter } from '../throttling/fixed-window-counter.ts';
import { throttledAddress } from '../throttling/throttle-keys.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { hashPassword } from '../users/password-hasher.ts';
import { checkPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../users/password-policy.ts';
import { MAX_NAME_LENGTH, nameProblem, normalizeName } from '../users/person-name.ts';
import { countryOptions, defaultCountry, isCountryCode, parsePhone } from '../users/phone.ts';
import { SelfServiceUsers } from '../users/self-service-users.ts';
import type { UserRepository } from '../users/users.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import {
  type InteractionDetails,
  type InteractionRoute,
  outcome,
  type SignInStep,
  type SignUpAddress,
  type StepOutcome,
} from './interaction.ts';
import type { LoginIdentifierCookie } from './login-identifier-cookie.ts';
import { termsLabelHtml } from './terms-label.ts';
import type { VerificationStep } from './verification-step.ts';

interface SignUpValues {
  name: string;
  email: string;
  phone: string;
  phoneCountry: string;
  terms: boolean;
  /** Typed back in only when it passed and matched its confirmation (another field needs fixing). */
  password?: string | undefined;
}

type FieldErrors = Partial<
  Record<'name' | 'email' | 'phone' | 'password' | 'password_confirmation' | 'terms' | 'form', string>
>;

export interface SignUpStepDependencies {
  config: Pick<
    Config,
    | 'issuer'
    | 'minPasswordLength'
    | 'productName'
    | 'termsVersion'
    | 'termsUrl'
    | 'privacyUrl'
    | 'signupPhone'
    | 'signupsPerIpPerHour'
  >;
  provider: Provider;
  db: Kysely<Database>;
  pages: Pick<PageRenderer, 'localeOf'>;
  logger: Logger;
  users: UserRepository;
  identifier: LoginIdentifierCookie;
  /** Sign-up, decoy and resumed sign-up all lead to the verification step. */
  verification: Pick<VerificationStep, 'begin' | 'resumeSignUp' | 'warnExistingOwner'>;
  /** An address this interaction's sign-up must use (an invitation's); none leaves the email to the person. */
  address?: SignUpAddress | undefined;
  /** Where new accounts are announced as `user.created` (src/webhooks). */
  webhooks?: WebhookEvents | undefined;
}

const signUpForm = z.object({
  name: formFields.text().transform(normalizeName),
  email: formFields.text().transform(normalizeEmail),
  phone: formFields.text().transform((phone) => phone.trim().slice(0, 40)),
  phone_country: formFields.text(),
  terms: formFields.text().transform((terms) => terms === 'accepted'),
  password: formFields.text().transform((password) => password.slice(0, MAX_PASSWORD_LENGTH * 4)),
  password_confirmation: formFields.text().transform((password) => password.slice(0, MAX_PASSWORD_LENGTH * 4)),
  time_zone: formFields.text(),
});

/** Accepted sign-ups per address and hour: each one mails someone, so one network cannot mail the world. */
/** The window of SIGNUPS_PER_IP_PER_HOUR (config.signupsPerIpPerHour). */
export const SIGNUPS_PER_IP_WINDOW_MS = 60 * 60 * 1000;

/**
 * Self-service sign-up: name, email, phone (E.164), password twice and the terms. A sign-up
 * with an email that already has an account looks exactly like a new one (same page, same next
 * step, a password hash spent either way); the account's owner is told by email instead.
 */
export class SignUpStep implements SignInStep {
  readonly name = 'sign-up';
  readonly routes: readonly InteractionRoute[];
  private readonly users: UserRepository;
  private readonly verification: SignUpStepDependencies['verification'];
  private readonly selfService: SelfServiceUsers;

  constructor(private readonly deps: SignUpStepDependencies) {
    this.users = deps.users;
    this.verification = deps.verification;
    this.selfService = new SelfServiceUsers(deps.db, deps.config.termsVersion, deps.webhooks);
    this.routes = [
      { method: 'get', path: '/signup', handle: (ctx, details) => this.show(ctx, details) },
      { method: 'post', path: '/signup', handle: (ctx, details) => this.submit(ctx, details) },
    ];
  }

  /** prompt=create opens on the sign-up page, unless the person chose the login ("¿Ya tienes cuenta?"). */
  async resume(ctx: Context, details: InteractionDetails): Promise<StepOutcome | undefined> {
    if (details.prompt.name !== 'create') return undefined;
    const wantsLogin = ctx.query['step'] === 'identifier' || this.deps.identifier.get(ctx, details.uid) !== undefined;
    return wantsLogin ? undefined : this.show(ctx, details);
  }

  private minLength(): number {
    return Math.max(MIN_PASSWORD_LENGTH, this.deps.config.minPasswordLength);
  }

  private async show(
    ctx: Context,
    details: InteractionDetails,
    values?: SignUpValues,
    errors: FieldErrors = {},
    status = 200,
    headers?: Record<string, string>,
  ): Promise<StepOutcome> {
    const locale = this.deps.pages.localeOf(ctx);
    const t = translator(locale);
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    const hint =
      typeof details.params['login_hint'] === 'string' && isValidEmail(details.params['login_hint'])
        ? details.params['login_hint']
        : '';
    const languageTags = [
      ...String(details.params['ui_locales'] ?? '').split(' '),
      ...ctx.get('accept-language').split(','),
    ].filter(Boolean);
    const fixedEmail = await this.deps.address?.fixedEmail(ctx, details);
    const shown = values ?? {
      name: '',
      email: hint,
      phone: '',
      phoneCountry: defaultCountry(locale, languageTags),
      terms: false,
    };
    return outcome.page(
      'signup',
      {
        uid: details.uid,
        clientName: client?.clientName,
        values: fixedEmail === undefined ? shown : { ...shown, email: fixedEmail },
        emailFixed: fixedEmail !== undefined,
        errors,
        countries: countryOptions(locale),
        minLength: this.minLength(),
        termsLabelHtml: termsLabelHtml(this.deps.config, t),
        phoneAsked: this.deps.config.signupPhone,
      },
      status,
      headers,
    );
  }

  private async submit(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const locale = this.deps.pages.localeOf(ctx);
    const t = translator(locale);
    const form = readForm(ctx, signUpForm);
    const { name, phone: typedPhone, terms, password, password_confirmation: confirmation } = form;
    // A fixed address (an invitation's) is the one signed up, whatever the form says.
    const email = (await this.deps.address?.fixedEmail(ctx, details)) ?? form.email;
    const phoneCountry = isCountryCode(form.phone_country) ? form.phone_country : defaultCountry(locale);
    const values: SignUpValues = { name, email, phone: typedPhone, phoneCountry, terms };

    const errors: FieldErrors = {};
    const nameError = nameProblem(values.name);
    if (nameError) errors.name = t(`signup.error.${nameError}`, { max: MAX_NAME_LENGTH });
    if (!isValidEmail(values.email)) errors.email = t('signup.error.email_invalid');
    // SIGNUP_PHONE: required, optional (an empty field is fine, a wrong number is not) or off.
    const asked = this.deps.config.signupPhone;
    const phone = asked !== 'off' && values.phone ? parsePhone(values.phone, values.phoneCountry) : undefined;
    if (asked === 'required' && !values.phone) errors.phone = t('signup.error.phone_required');
    else if (phone && !phone.ok) errors.phone = t('signup.error.phone_invalid');
    if (!password) {
      errors.password = t('signup.error.password_required');
    } else {
      const client = await this.deps.provider.Client.find(String(details.params['client_id']));
      const verdict = checkPassword(password, {
        email: values.email,
        minLength: this.deps.config.minPasswordLength,
        productName: this.deps.config.productName,
        portalName: client?.clientName,
      });
      if (!verdict.ok) errors.password = t(verdict.messageKey, verdict.vars);
      else if (confirmation !== password) errors.password_confirmation = t('signup.error.password_mismatch');
    }
    if (!values.terms) errors.terms = t('signup.error.terms_required');
    if (Object.keys(errors).length) {
      this.deps.logger.info(
        { event: 'signup.refused', uid: details.uid, fields: Object.keys(errors) },
        'sign-up form refused',
      );
      // A password that passed, confirmed, is typed back in: only another field needs fixing.
      const kept = !errors.password && !errors.password_confirmation ? password : undefined;
      return this.show(ctx, details, { ...values, password: kept }, errors, 400);
    }

    const fromHere = await new FixedWindowCounter(this.deps.db).hit(
      `signup-ip:${throttledAddress(ctx.ip)}`,
      SIGNUPS_PER_IP_WINDOW_MS,
    );
    if (fromHere.count > this.deps.config.signupsPerIpPerHour) {
      this.deps.logger.info({ event: 'signup.ip_limited', uid: details.uid }, 'sign-ups limited for this address');
      const minutes = Math.ceil(fromHere.retryAfterSeconds / 60);
      const limited = t('signup.error.ip_limited', { count: minutes, minutes });
      const headers = { 'Retry-After': String(fromHere.retryAfterSeconds) };
      return this.show(ctx, details, values, { form: limited }, 429, headers);
    }

    // Hashed whether or not the email is taken, so both answers take as long.
    const passwordHash = await hashPassword(password);
    const existing = await this.users.findByEmail(values.email);
    const created = existing
      ? undefined
      : await this.selfService.create({
          email: values.email,
          name: values.name,
          phone: phone?.ok ? phone.e164 : null,
          passwordHash,
          emailVerified: false,
          locale,
          timeZone: form.time_zone,
        });
    const owner = existing ?? (created ? undefined : await this.users.findByEmail(values.email)); // lost a race
    if (created) {
      this.deps.logger.info(
        { event: 'signup.created', uid: details.uid, accountId: created.id },
        'account created by sign-up',
      );
      return this.verification.begin(ctx, details, { user: created, typedEmail: values.email, reason: 'signup' });
    }
    if (!owner) throw new Error('sign-up: the account neither exists nor could be created');
    const resumed = await this.verification.resumeSignUp(ctx, details, owner.id);
    if (resumed) {
      this.deps.logger.info(
        { event: 'signup.resubmitted', uid: details.uid, accountId: owner.id },
        'sign-up sent again by the browser that created the account',
      );
      return resumed;
    }
    this.deps.logger.info(
      { event: 'signup.existing_email', uid: details.uid, accountId: owner.id },
      'sign-up with an email that has an account',
    );
    await this.verification.warnExistingOwner(owner, locale);
    return this.verification.begin(ctx, details, {
      user: owner,
      typedEmail: values.email,
      reason: 'signup',
      decoy: true,
    });
  }
}
