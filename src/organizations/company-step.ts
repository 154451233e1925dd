import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import { type InteractionState, InteractionStateCookie } from '../http/interaction-state-cookie.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { translator } from '../i18n/i18n.ts';
import {
  type FirstFactor,
  type InteractionDetails,
  type InteractionRoute,
  isSigningIn,
  outcome,
  type SignInStep,
  type StepOutcome,
} from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import { collectsCompany } from './client-organization.ts';
import {
  type CompanyFormResult,
  type CompanyFormValues,
  checkCompanyForm,
  companyFormOptions,
  companyFormValues,
  emptyCompanyFormValues,
} from './company-form.ts';
import type { CompanyRegistration } from './company-registration.ts';
import { ORGANIZATION_PROMPT } from './organization-authorizations.ts';
import { taxIdName } from './tax-ids.ts';

export const COMPANY_STEP = 'company';

export interface CompanyStepDependencies {
  config: Pick<Config, 'secure' | 'companySegments'>;
  provider: Pick<Provider, 'Client'>;
  pages: Pick<PageRenderer, 'localeOf'>;
  registration: Pick<CompanyRegistration, 'register'>;
  /** Whether the person belongs to an organization now (removed memberships do not count). */
  hasOrganization: (accountId: string) => Promise<boolean>;
  logger: Logger;
}

/** A sign-in whose factors passed, paused on the company form. */
interface PendingCompany extends InteractionState {
  accountId: string;
  amr: string[];
  acr?: string | undefined;
}

class PendingCompanyCookie extends InteractionStateCookie<PendingCompany> {
  constructor(secure: boolean) {
    super('umbral.company', secure, (value) => {
      if (typeof value['accountId'] !== 'string' || !Array.isArray(value['amr'])) return undefined;
      return {
        accountId: value['accountId'],
        amr: value['amr'].filter((m): m is string => typeof m === 'string'),
        ...(typeof value['acr'] === 'string' ? { acr: value['acr'] } : {}),
      };
    });
  }
}

/** Who fills the form: a sign-in in progress, or a session already signed in (the organization prompt). */
type Registrant = { kind: 'login'; login: FirstFactor } | { kind: 'session'; accountId: string };

/**
 * The company step of portals registered with `--collect-company`: a person who belongs to no
 * organization gives their company's data ("Datos de tu empresa") and becomes the admin of the
 * organization it creates, active at once; the organization step that follows then finds it, so
 * the portal's tokens carry its claims. It comes after sign-up, the email verification and any
 * second factor, as the customer cloud's sign-up orders them (src/app.ts lists it after those
 * steps). A session already signed in meets it when oidc-provider asks its organization.
 *
 * A refused form keeps every value, with each reason next to its field; a tax id already
 * registered is refused saying only that, and that company's admins are told someone asked.
 */
export class CompanyStep implements SignInStep {
  readonly name = COMPANY_STEP;
  readonly routes: readonly InteractionRoute[];
  private readonly pending: PendingCompanyCookie;

  constructor(private readonly deps: CompanyStepDependencies) {
    this.pending = new PendingCompanyCookie(deps.config.secure);
    this.routes = [
      { method: 'get', path: '/company', during: 'any', handle: (ctx, details) => this.show(ctx, details) },
      { method: 'post', path: '/company', during: 'any', handle: (ctx, details) => this.submit(ctx, details) },
    ];
  }

  async enter(ctx: Context, details: InteractionDetails, login: FirstFactor): Promise<FirstFactor | StepOutcome> {
    if (!isSigningIn(details) || !(await this.collects(details))) return login;
    if (await this.deps.hasOrganization(login.accountId)) return login;
    this.pending.set(ctx, { uid: details.uid, accountId: login.accountId, amr: login.amr, acr: login.acr });
    return outcome.redirect(`/interaction/${details.uid}/company`);
  }

  /** A session without an organization at a collecting portal: the form, before the organization step refuses it. */
  async resume(_ctx: Context, details: InteractionDetails): Promise<StepOutcome | undefined> {
    const accountId = details.session?.accountId;
    if (details.prompt.name !== ORGANIZATION_PROMPT || !accountId || !(await this.collects(details))) return undefined;
    if (await this.deps.hasOrganization(accountId)) return undefined;
    return outcome.redirect(`/interaction/${details.uid}/company`);
  }

  private async show(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const who = await this.registrant(ctx, details);
    if (!who) return outcome.back(details.uid);
    return this.page(ctx, details, emptyCompanyFormValues(), { ok: false, errors: {}, warnings: {} }, 200);
  }

  private async submit(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const who = await this.registrant(ctx, details);
    if (!who) return outcome.back(details.uid);
    const t = translator(this.deps.pages.localeOf(ctx));
    const values = companyFormValues((ctx.request as { body?: unknown }).body);
    const checked = checkCompanyForm(values, this.deps.config.companySegments, t);
    if (!checked.ok) {
      const refused = Object.keys(checked.errors).length > 0;
      return this.page(ctx, details, values, checked, refused ? 400 : 200);
    }
    const accountId = who.kind === 'login' ? who.login.accountId : who.accountId;
    const result = await this.deps.registration.register({
      userId: accountId,
      clientId: String(details.params['client_id'] ?? ''),
      company: checked.company,
    });
    if (result.kind === 'taken') {
      const name = taxIdName(checked.company.country) ?? t('company.tax_id.generic_name');
      return this.page(
        ctx,
        details,
        values,
        { ok: false, errors: { tax_id: t('company.tax_id.taken', { name }) }, warnings: {} },
        409,
      );
    }
    if (result.kind === 'created') {
      this.deps.logger.info(
        { event: 'organization.self_registered', uid: details.uid, organizationId: result.organization.row.id },
        'company registered at the company step',
      );
    }
    if (who.kind === 'session') {
      return result.kind === 'created'
        ? outcome.result({ [ORGANIZATION_PROMPT]: { id: result.organization.row.id } }, true)
        : outcome.back(details.uid);
    }
    this.pending.clear(ctx, details.uid);
    // The organization step, next, finds the new organization: the only one the person has.
    return outcome.login(who.login, this.name);
  }

  private async page(
    ctx: Context,
    details: InteractionDetails,
    values: CompanyFormValues,
    checked: Extract<CompanyFormResult, { ok: false }>,
    status: number,
  ): Promise<StepOutcome> {
    const locale = this.deps.pages.localeOf(ctx);
    const t = translator(locale);
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    return outcome.page(
      'company-step',
      {
        uid: details.uid,
        clientName: client?.clientName ?? client?.clientId,
        values,
        errors: checked.errors,
        warnings: checked.warnings,
        // An accepted tax id whose warning is shown: sending the form again unchanged confirms it.
        confirmedTaxId: checked.confirmTaxId ?? '',
        options: companyFormOptions(locale, this.deps.config.companySegments, t),
        action: `/interaction/${details.uid}/company`,
      },
      status,
    );
  }

  private async registrant(ctx: Context, details: InteractionDetails): Promise<Registrant | undefined> {
    if (!(await this.collects(details))) return undefined;
    const pending = this.pending.get(ctx, details.uid);
    if (pending && isSigningIn(details)) {
      const login: FirstFactor = { accountId: pending.accountId, amr: pending.amr };
      if (pending.acr) login.acr = pending.acr;
      return { kind: 'login', login };
    }
    if (details.prompt.name === ORGANIZATION_PROMPT && details.session?.accountId) {
      return { kind: 'session', accountId: details.session.accountId };
    }
    return undefined;
  }

  private async collects(details: InteractionDetails): Promise<boolean> {
    const client = await this.deps.provider.Client.find(String(details.params['client_id'] ?? ''));
    return collectsCompany(client?.metadata() as Record<string, unknown> | undefined);
  }
}
