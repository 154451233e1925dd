import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { formFields, readForm } from '../http/form.ts';
import { showOrganizationLogo } from '../http/page-branding.ts';
import {
  type FirstFactor,
  type InteractionDetails,
  type InteractionRoute,
  isOutcome,
  isSigningIn,
  outcome,
  type SignInStep,
  type StepOutcome,
} from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import { levelOfAmr } from '../mfa/authentication-level.ts';
import { ORGANIZATION_PARAM, type OrganizationMode, requestMode } from './client-organization.ts';
import { ORGANIZATION_PROMPT, signInOfPrompt } from './organization-authorizations.ts';
import {
  type Choice,
  type ChoiceRequest,
  isOrganizationAnswer,
  type OrganizationAnswer,
  type OrganizationChooser,
} from './organization-choice.ts';
import type { OrganizationGrants } from './organization-grants.ts';
import type { SignInMethod } from './organization-input.ts';
import type { OrganizationRepository } from './organizations.ts';
import { PendingOrganizationCookie } from './pending-organization.ts';
import { signInWayOf, type Upstream } from './sign-in-methods.ts';

export const ORGANIZATION_STEP = 'organization';

export interface OrganizationStepDependencies {
  config: Pick<Config, 'secure'>;
  /** Client lookups: its organization setting, its name on the pages. */
  provider: Pick<Provider, 'Client'>;
  chooser: OrganizationChooser;
  grants: Pick<OrganizationGrants, 'find'>;
  /** The upstream provider the account last signed in with: the one of a federated sign-in just made. */
  latestUpstream: (accountId: string) => Promise<Upstream | undefined>;
  /** The organization decided, for its logo on the sign-in's later pages. */
  organizations: Pick<OrganizationRepository, 'findById'>;
  logger: Logger;
}

const pickForm = z.object({ organization: formFields.trimmed() });

/** Who is choosing: a sign-in in progress (its factors passed), or a session already signed in. */
type Chooser = { kind: 'login'; login: FirstFactor } | { kind: 'session'; accountId: string };

/**
 * The organization of the sign-in, for portals that want one (`--organization`, or the
 * `organization` scope). After the factors (`enter`), or for a session already signed in when
 * oidc-provider opens the organization prompt (`resume`): the organization named by the portal,
 * the one remembered for this session at this portal, the only active one, or the person's pick
 * on "Elige tu empresa". Then its policy: a sign-in method it does not allow is refused; its
 * require_mfa sends the login back through the steps with the second factor demanded.
 */
export class OrganizationStep implements SignInStep {
  readonly name = ORGANIZATION_STEP;
  readonly routes: readonly InteractionRoute[];
  private readonly pending: PendingOrganizationCookie;

  constructor(private readonly deps: OrganizationStepDependencies) {
    this.pending = new PendingOrganizationCookie(deps.config.secure);
    this.routes = [
      { method: 'get', path: '/organization', during: 'any', handle: (ctx, details) => this.showPicker(ctx, details) },
      { method: 'post', path: '/organization', during: 'any', handle: (ctx, details) => this.pick(ctx, details) },
    ];
  }

  /**
   * Once this sign-in's organization is decided (kept through its second factor, or answered to
   * oidc-provider before consent), its pages show the organization's logo (src/http/page-branding.ts).
   */
  async brand(ctx: Context, details: InteractionDetails): Promise<void> {
    const decided =
      this.pending.get(ctx, details.uid)?.chosen ?? answerOf(details.lastSubmission?.[ORGANIZATION_PROMPT]);
    if (!decided || !('id' in decided)) return;
    const organization = await this.deps.organizations.findById(decided.id);
    if (organization) showOrganizationLogo(ctx, organization.row);
  }

  async enter(ctx: Context, details: InteractionDetails, login: FirstFactor): Promise<FirstFactor | StepOutcome> {
    const mode = await this.modeOf(details);
    if (!mode) return login;
    const earlier = this.pending.get(ctx, details.uid);
    const chosen = earlier?.accountId === login.accountId ? earlier.chosen : undefined;
    const choice = await this.deps.chooser.decide({
      ...(await this.request(details, login.accountId, mode)),
      chosen: chosen ?? answerOf(details.lastSubmission?.[ORGANIZATION_PROMPT]),
      signIn: await this.signInOf(login),
    });
    return this.afterLogin(ctx, details, login, choice);
  }

  /** A session already signed in, and oidc-provider asks its organization (organization-authorizations.ts). */
  async resume(_ctx: Context, details: InteractionDetails): Promise<StepOutcome | undefined> {
    if (details.prompt.name !== ORGANIZATION_PROMPT || !details.session?.accountId) return undefined;
    const accountId = details.session.accountId;
    const choice = await this.deps.chooser.decide({
      ...(await this.request(details, accountId, (await this.modeOf(details)) ?? 'optional')),
      chosen: answerOf(details.lastSubmission?.[ORGANIZATION_PROMPT]),
      signIn: signInOfPrompt(details),
    });
    return this.afterSession(details, choice);
  }

  private async showPicker(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const who = this.chooserOf(ctx, details);
    if (!who) return outcome.back(details.uid);
    const options = await this.deps.chooser.options(accountOf(who));
    if (options.length < 2) return this.decideAgain(ctx, details, who);
    return this.pickerPage(
      details,
      options.map((m) => m.organization),
    );
  }

  private async pick(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const who = this.chooserOf(ctx, details);
    if (!who) return outcome.back(details.uid);
    const { organization } = readForm(ctx, pickForm);
    const options = await this.deps.chooser.options(accountOf(who));
    const picked = options.find((m) => m.organization.id === organization);
    if (!picked) {
      if (options.length < 2) return this.decideAgain(ctx, details, who);
      return this.pickerPage(
        details,
        options.map((m) => m.organization),
        400,
      );
    }
    const mode = (await this.modeOf(details)) ?? 'optional';
    const chosen = { id: picked.organization.id };
    this.deps.logger.info(
      { event: 'organization.picked', uid: details.uid, organizationId: chosen.id },
      'organization picked on the picker',
    );
    if (who.kind === 'session') {
      const choice = await this.deps.chooser.decide({
        accountId: who.accountId,
        mode,
        chosen,
        signIn: signInOfPrompt(details),
      });
      return this.afterSession(details, choice);
    }
    const choice = await this.deps.chooser.decide({
      accountId: who.login.accountId,
      mode,
      chosen,
      signIn: await this.signInOf(who.login),
    });
    const next = await this.afterLogin(ctx, details, who.login, choice);
    return isOutcome(next) ? next : outcome.login(next, this.name);
  }

  /** Nothing left to pick from (an organization ended meanwhile): decided as if the picker had not been needed. */
  private async decideAgain(ctx: Context, details: InteractionDetails, who: Chooser): Promise<StepOutcome> {
    if (who.kind === 'session') return (await this.resume(ctx, details)) ?? outcome.back(details.uid);
    const choice = await this.deps.chooser.decide({
      ...(await this.request(details, who.login.accountId, (await this.modeOf(details)) ?? 'optional')),
      signIn: await this.signInOf(who.login),
    });
    const next = await this.afterLogin(ctx, details, who.login, choice);
    return isOutcome(next) ? next : outcome.login(next, this.name);
  }

  /** A sign-in in progress: the organization goes into its result, or the sign-in pauses here. */
  private async afterLogin(
    ctx: Context,
    details: InteractionDetails,
    login: FirstFactor,
    choice: Choice,
  ): Promise<FirstFactor | StepOutcome> {
    const { uid } = details;
    const keep = { uid, accountId: login.accountId, amr: login.amr, acr: login.acr };
    switch (choice.kind) {
      case 'without':
        this.pending.clear(ctx, uid);
        return withAnswer(login, { none: true });
      case 'choose':
        this.pending.set(ctx, keep);
        return outcome.redirect(`/interaction/${uid}/organization`);
      case 'unavailable':
        return this.refusal(details, choice.reason, choice.organization?.name, false);
      case 'organization': {
        const { organization } = choice;
        if (choice.problem === 'method') {
          return this.refusal(details, 'method', organization.row.name, false, organization.signInMethods);
        }
        if (choice.problem === 'mfa') {
          // Sent through the steps once with the factor demanded; a second time would loop.
          if (login.mfaRequired) throw new Error('the second factor the organization demands was not obtained');
          this.pending.set(ctx, { ...keep, chosen: { id: organization.row.id } });
          this.deps.logger.info(
            { event: 'organization.mfa_required', uid, organizationId: organization.row.id },
            'the organization requires a second factor',
          );
          return outcome.login({ accountId: login.accountId, amr: login.amr, mfaRequired: true });
        }
        this.pending.clear(ctx, uid);
        return withAnswer(login, { id: organization.row.id });
      }
    }
  }

  /** A session already signed in: oidc-provider gets the answer (its checks judge it again), or a page. */
  private async afterSession(details: InteractionDetails, choice: Choice): Promise<StepOutcome> {
    switch (choice.kind) {
      case 'without':
        return outcome.result({ [ORGANIZATION_PROMPT]: { none: true } }, true);
      case 'choose':
        return outcome.redirect(`/interaction/${details.uid}/organization`);
      case 'unavailable':
        return this.refusal(details, choice.reason, choice.organization?.name, true);
      case 'organization':
        if (choice.problem === 'method') {
          return this.refusal(details, 'method', choice.organization.row.name, true, choice.organization.signInMethods);
        }
        // A second factor it still needs is asked next, by the login prompt's step-up.
        return outcome.result({ [ORGANIZATION_PROMPT]: { id: choice.organization.row.id } }, true);
    }
  }

  private async refusal(
    details: InteractionDetails,
    reason: 'named' | 'inactive' | 'none' | 'method',
    organizationName: string | undefined,
    signedIn: boolean,
    allowedMethods: SignInMethod[] = [],
  ): Promise<StepOutcome> {
    this.deps.logger.info(
      { event: 'organization.refused', uid: details.uid, reason },
      'sign-in refused for its organization',
    );
    return outcome.page(
      'organization-required',
      {
        uid: details.uid,
        reason,
        organizationName,
        allowedMethods,
        signedIn,
        clientName: await this.clientName(details),
      },
      403,
    );
  }

  private async pickerPage(
    details: InteractionDetails,
    organizations: Array<{ id: string; name: string }>,
    status = 200,
  ): Promise<StepOutcome> {
    return outcome.page(
      'organization-picker',
      {
        uid: details.uid,
        organizations: organizations.map(({ id, name }) => ({ id, name })),
        clientName: await this.clientName(details),
        error: status === 400,
      },
      status,
    );
  }

  private chooserOf(ctx: Context, details: InteractionDetails): Chooser | undefined {
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

  private async modeOf(details: InteractionDetails): Promise<OrganizationMode | undefined> {
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    return requestMode(client as unknown as Record<string, unknown> | undefined, details.params);
  }

  /** What the request itself says: the organization it names, the one remembered for the session at this portal. */
  private async request(
    details: InteractionDetails,
    accountId: string,
    mode: OrganizationMode,
  ): Promise<ChoiceRequest> {
    const named = details.params[ORGANIZATION_PARAM];
    const bound = details.grantId ? await this.deps.grants.find(details.grantId) : undefined;
    const remembered =
      bound?.accountId === accountId && bound.clientId === details.params['client_id']
        ? (bound.organizationId ?? undefined)
        : undefined;
    return { accountId, mode, named: typeof named === 'string' && named ? named : undefined, remembered };
  }

  private async signInOf(login: FirstFactor): Promise<ChoiceRequest['signIn']> {
    const upstream = login.amr.includes('fed') ? await this.deps.latestUpstream(login.accountId) : undefined;
    return { ...signInWayOf(login.amr, upstream), mfa: levelOfAmr(login.amr) === 'mfa' };
  }

  private async clientName(details: InteractionDetails): Promise<string | undefined> {
    const client = await this.deps.provider.Client.find(String(details.params['client_id']));
    return client?.clientName ?? client?.clientId;
  }
}

function accountOf(who: Chooser): string {
  return who.kind === 'login' ? who.login.accountId : who.accountId;
}

function withAnswer(login: FirstFactor, answer: OrganizationAnswer): FirstFactor {
  const decided = { ...login, extraResults: { ...login.extraResults, [ORGANIZATION_PROMPT]: answer } };
  return 'id' in answer ? { ...decided, organizationId: answer.id } : decided;
}

function answerOf(value: unknown): OrganizationAnswer | undefined {
  return isOrganizationAnswer(value) ? value : undefined;
}
