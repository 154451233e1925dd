import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { originOf } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { formFields, parseForm, readForm } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { type Locale, type Translate, translator } from '../i18n/i18n.ts';
import {
  type EmailVerificationStart,
  type InteractionDetails,
  outcome,
  type StepOutcome,
} from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { Storage } from '../storage/database.ts';
import type { UserRow } from '../storage/schema.ts';
import { MAX_NAME_LENGTH, nameProblem, normalizeName } from '../users/person-name.ts';
import { SelfServiceUsers } from '../users/self-service-users.ts';
import { UserRepository } from '../users/users.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import type { FederatedLogin, Federation } from './federated-login.ts';
import type { AuthenticatedLogin } from './federation-logins.ts';

/** The email verification of a federated sign-up, and the warning mailed to an email's existing owner. */
export interface FederatedSignUpVerification extends EmailVerificationStart {
  warnExistingOwner(owner: Pick<UserRow, 'id' | 'email' | 'locale'>, locale: Locale): Promise<void>;
}

export interface FederatedSignUpDependencies {
  config: Pick<Config, 'termsVersion'>;
  provider: Pick<Provider, 'Client'>;
  pages: Pick<PageRenderer, 'localeOf'>;
  logger: Logger;
  storage: Pick<Storage, 'db'>;
  federation: Pick<Federation, 'logins'>;
  verification: FederatedSignUpVerification;
  /** The terms checkbox's label (the operator's terms and privacy links), shared with the password sign-up. */
  termsLabelHtml(t: Translate): string;
  /** Where new accounts are announced as `user.created` (src/webhooks). */
  webhooks?: WebhookEvents | undefined;
}

/** The name as the page shows it back: spaces collapsed; the terms ticked only with their own value. */
const signUpValues = z.object({
  name: formFields.text().transform(normalizeName),
  terms: formFields.text().transform((terms) => terms === 'accepted'),
});
type SignUpValues = z.output<typeof signUpValues>;

/** What the form must satisfy, with each field's error in the person's language. */
function signUpForm(t: Translate) {
  return z.object({
    name: signUpValues.shape.name.superRefine((name, check) => {
      const problem = nameProblem(name);
      if (problem) check.addIssue({ code: 'custom', message: t(`signup.error.${problem}`, { max: MAX_NAME_LENGTH }) });
    }),
    terms: signUpValues.shape.terms.pipe(z.literal(true, t('signup.error.terms_required'))),
  });
}

/**
 * Sign-up with Google or Microsoft: a short page showing the email the provider gave, the name
 * (editable) and the terms checkbox, since a federated account accepts the same terms, recorded
 * the same way (terms_version, terms_accepted_at). No password and no phone: the account signs
 * in through its provider, and a password can be set later by a reset.
 *
 * An email the provider verified makes a verified account at once. An unverified one (Microsoft,
 * unless the operator trusts it) gets the verification email and the "revisa tu correo" step, and
 * when the email already has an account it gets exactly the same page while the owner is told
 * by email, as with the password sign-up: nothing here reveals which emails have accounts.
 */
export class FederatedSignUp {
  private readonly users: UserRepository;
  private readonly selfService: SelfServiceUsers;

  constructor(
    private readonly deps: FederatedSignUpDependencies,
    private readonly login: FederatedLogin,
  ) {
    this.users = new UserRepository(deps.storage.db);
    this.selfService = new SelfServiceUsers(deps.storage.db, deps.config.termsVersion, deps.webhooks);
  }

  async show(
    ctx: Context,
    details: InteractionDetails,
    pending: AuthenticatedLogin,
    values?: SignUpValues,
    errors: Record<string, string> = {},
    status = 200,
  ): Promise<StepOutcome> {
    const t = translator(this.deps.pages.localeOf(ctx));
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    return outcome.page(
      'federation-signup',
      {
        uid: details.uid,
        loginId: pending.id,
        provider: pending.provider,
        clientName: client?.clientName,
        email: pending.identity.email,
        emailVerified: pending.identity.emailVerified,
        values: values ?? { name: pending.identity.name ?? '', terms: false },
        errors,
        termsLabelHtml: this.deps.termsLabelHtml(t),
      },
      status,
    );
  }

  async submit(ctx: Context, details: InteractionDetails, pending: AuthenticatedLogin): Promise<StepOutcome> {
    const locale = this.deps.pages.localeOf(ctx);
    const form = parseForm(ctx, signUpForm(translator(locale)));
    if (!form.ok) return this.show(ctx, details, pending, readForm(ctx, signUpValues), form.fieldErrors, 400);
    const values = form.value;

    const { identity } = pending;
    const email = identity.email!;
    const created = await this.selfService.create({
      email,
      name: values.name,
      emailVerified: identity.emailVerified,
      locale,
    });
    if (created) {
      if (!(await this.login.link(created, identity, details.uid, 'automatic', originOf(ctx)))) {
        // The upstream account was linked to another user meanwhile (a second tab): that one signs in.
        return this.login.continue(ctx, details);
      }
      this.deps.logger.info(
        { event: 'signup.created', uid: details.uid, accountId: created.id, via: identity.provider },
        'account created by federated sign-up',
      );
      return this.login.signIn(ctx, details, pending, created);
    }
    const owner = await this.users.findByEmail(email);
    if (!owner) throw new Error('federated sign-up: the account neither exists nor could be created');
    if (identity.emailVerified) {
      // Created meanwhile with a verified upstream email: the usual link rules decide.
      return this.login.continue(ctx, details);
    }
    return this.decoy(ctx, details, pending, owner, locale);
  }

  /** An unverified upstream email that already has an account: the same next page, and the owner is told. */
  private async decoy(
    ctx: Context,
    details: InteractionDetails,
    pending: AuthenticatedLogin,
    owner: UserRow,
    locale: Locale,
  ): Promise<StepOutcome> {
    await this.deps.federation.logins.finish(pending.id);
    this.deps.logger.info(
      { event: 'signup.existing_email', uid: details.uid, accountId: owner.id, via: pending.provider },
      'federated sign-up with an email that has an account',
    );
    await this.deps.verification.warnExistingOwner(owner, locale);
    return this.deps.verification.begin(ctx, details, {
      user: owner,
      typedEmail: pending.identity.email!,
      reason: 'signup',
      decoy: true,
    });
  }
}
