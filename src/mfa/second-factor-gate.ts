import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID } from '../account/account-client.ts';
import {
  type FirstFactor,
  type InteractionDetails,
  outcome,
  type ProvenLogin,
  type StepOutcome,
} from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { UserRepository } from '../users/users.ts';
import { acrOfLevel, levelOfAmr, requestedLevelOfParams } from './authentication-level.ts';
import { clientRequiresMfa, STEP_UP_REASON } from './login-checks.ts';
import type { Mfa } from './mfa.ts';
import type { PendingSecondFactorCookie } from './pending-second-factor.ts';

export interface SecondFactorGateDependencies {
  provider: Pick<Provider, 'Client'>;
  users: Pick<UserRepository, 'findById'>;
  mfa: Pick<Mfa, 'factors' | 'rememberedDevices'>;
  logger: Logger;
  pending: PendingSecondFactorCookie;
}

/**
 * Stands between every first factor and the session (the second-factor step's `enter`). A user with a
 * factor gets the factor step, unless this browser was remembered and the request does not demand
 * the MFA level; a user without one goes on, unless the client requires MFA or the request demands
 * it essentially: then they enroll a factor first. The passed first factor waits in a cookie bound
 * to the interaction (pending-second-factor.ts).
 */
export class SecondFactorGate {
  constructor(private readonly deps: SecondFactorGateDependencies) {}

  /** The login, with its acr, when no second factor is needed; otherwise the way to the factor step (or enrollment). */
  async afterFirstFactor(
    ctx: Context,
    details: InteractionDetails,
    first: FirstFactor,
  ): Promise<ProvenLogin | StepOutcome> {
    if (levelOfAmr(first.amr) === 'mfa') return { accountId: first.accountId, amr: first.amr, acr: acrOfLevel('mfa') };
    const demand = await this.demand(details, first);
    const hasFactors = await this.deps.mfa.factors.hasFactors(first.accountId);
    const single: ProvenLogin = { accountId: first.accountId, amr: first.amr, acr: acrOfLevel('sfa') };
    if (!hasFactors) {
      if (!demand.mustEnroll) return single;
      this.deps.pending.set(ctx, {
        uid: details.uid,
        accountId: first.accountId,
        amr: first.amr,
        enroll: true,
        demanded: true,
      });
      this.deps.logger.info(
        { event: 'mfa.enrollment_required', uid: details.uid, accountId: first.accountId },
        'sign-in needs a second factor to be enrolled',
      );
      return outcome.redirect(`/interaction/${details.uid}/mfa/enroll`);
    }
    if (!demand.demanded) {
      const user = await this.deps.users.findById(first.accountId);
      if (user && (await this.deps.mfa.rememberedDevices.isRemembered(ctx, user))) {
        this.deps.logger.info(
          { event: 'mfa.remembered_device', uid: details.uid, accountId: first.accountId },
          'second factor skipped on a remembered device',
        );
        return single;
      }
    }
    this.deps.pending.set(ctx, {
      uid: details.uid,
      accountId: first.accountId,
      amr: first.amr,
      enroll: false,
      demanded: demand.demanded,
    });
    return outcome.redirect(`/interaction/${details.uid}/mfa`);
  }

  /**
   * A session that signed in with one factor and now meets a request for the MFA level (the
   * login prompt's only reason is the step-up): its first factor stands, only the second is asked.
   */
  stepUpFirstFactor(details: InteractionDetails): FirstFactor | undefined {
    const reasons = details.prompt.reasons;
    const session = details.session;
    if (
      details.prompt.name !== 'login' ||
      !session?.accountId ||
      !reasons.length ||
      !reasons.every((r) => r === STEP_UP_REASON)
    )
      return undefined;
    return { accountId: session.accountId, amr: Array.isArray(session.amr) ? session.amr : ['pwd'] };
  }

  /**
   * What this authorization request wants: the MFA level at all (no remembered device), and a
   * factor even if none is enrolled. A later step's policy may demand it too (`mfaRequired`).
   */
  private async demand(
    details: InteractionDetails,
    first: FirstFactor,
  ): Promise<{ demanded: boolean; mustEnroll: boolean }> {
    if (first.mfaRequired) return { demanded: true, mustEnroll: true };
    const requested = requestedLevelOfParams(details.params);
    const clientId = String(details.params['client_id']);
    const client = await this.deps.provider.Client.find(clientId);
    const clientDemands = clientRequiresMfa(client as unknown as Record<string, unknown> | undefined);
    const requestDemands = requested?.level === 'mfa';
    // The account page changes factors and passwords: a remembered device never stands in for the factor there.
    const accountPage = clientId === ACCOUNT_CLIENT_ID;
    return {
      demanded: clientDemands || requestDemands || accountPage,
      mustEnroll: clientDemands || (requestDemands && requested.essential),
    };
  }
}
