import type { Context } from 'koa';
import { formField } from '../http/form.ts';
import { type Locale, translator } from '../i18n/i18n.ts';
import type { InteractionDetails } from '../interactions/interactions-router.ts';
import { termsLabelHtml } from '../interactions/terms-label.ts';
import type { UserRow } from '../storage/schema.ts';
import { MAX_NAME_LENGTH } from '../users/person-name.ts';
import { SelfServiceUsers } from '../users/self-service-users.ts';
import { UserRepository } from '../users/users.ts';
import type { FederatedLogin, FederatedLoginDependencies } from './federated-login.ts';
import type { AuthenticatedLogin } from './federation-logins.ts';

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
    private readonly deps: FederatedLoginDependencies,
    private readonly login: FederatedLogin,
  ) {
    this.users = new UserRepository(deps.storage.db);
    this.selfService = new SelfServiceUsers(deps.storage.db, deps.config.termsVersion);
  }

  async show(
    ctx: Context,
    details: InteractionDetails,
    pending: AuthenticatedLogin,
    values?: { name: string; terms: boolean },
    errors: Record<string, string> = {},
    status = 200,
  ): Promise<void> {
    const t = translator(this.deps.pages.localeOf(ctx));
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    await this.deps.pages.render(
      ctx,
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
        termsLabelHtml: termsLabelHtml(this.deps.config, t),
      },
      status,
    );
  }

  async submit(ctx: Context, details: InteractionDetails, pending: AuthenticatedLogin): Promise<void> {
    const locale = this.deps.pages.localeOf(ctx);
    const t = translator(locale);
    const values = {
      name: formField(ctx, 'name').trim().replace(/\s+/g, ' '),
      terms: formField(ctx, 'terms') === 'accepted',
    };
    const errors: Record<string, string> = {};
    if (!values.name) errors['name'] = t('signup.error.name_required');
    else if ([...values.name].length > MAX_NAME_LENGTH)
      errors['name'] = t('signup.error.name_too_long', { max: MAX_NAME_LENGTH });
    if (!values.terms) errors['terms'] = t('signup.error.terms_required');
    if (Object.keys(errors).length) return this.show(ctx, details, pending, values, errors, 400);

    const { identity } = pending;
    const email = identity.email!;
    const created = await this.selfService.create({
      email,
      name: values.name,
      emailVerified: identity.emailVerified,
      locale,
    });
    if (created) {
      if (!(await this.login.link(created, identity, details.uid, 'automatic'))) {
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
    await this.decoy(ctx, details, pending, owner, locale);
  }

  /** An unverified upstream email that already has an account: the same next page, and the owner is told. */
  private async decoy(
    ctx: Context,
    details: InteractionDetails,
    pending: AuthenticatedLogin,
    owner: UserRow,
    locale: Locale,
  ): Promise<void> {
    await this.deps.federation.logins.finish(pending.id);
    this.deps.logger.info(
      { event: 'signup.existing_email', uid: details.uid, accountId: owner.id, via: pending.provider },
      'federated sign-up with an email that has an account',
    );
    await this.deps.verification.warnExistingOwner(owner, locale);
    await this.deps.verification.begin(ctx, details, {
      user: owner,
      typedEmail: pending.identity.email!,
      reason: 'signup',
      decoy: true,
    });
  }
}
