import { type InteractionState, InteractionStateCookie } from '../http/interaction-state-cookie.ts';
import { outcome, type ProvenLogin, type StepOutcome } from '../interactions/interaction.ts';

/** The sign-in step (second-factor-step.ts) whose pages this state carries a sign-in through. */
export const SECOND_FACTOR_STEP = 'second-factor';

/** Every factor passed on a page of the second-factor step: the sign-in goes on with the steps after it. */
export function secondFactorPassed(login: ProvenLogin): StepOutcome {
  return outcome.login(login, SECOND_FACTOR_STEP);
}

/** A sign-in whose first factor passed, waiting for the second (or for a first one to be enrolled). */
export interface PendingSecondFactor extends InteractionState {
  accountId: string;
  amr: string[];
  /** No factor yet, and this sign-in requires one: enroll first. */
  enroll: boolean;
  /** The request demands the MFA level: a remembered device does not skip the factor. */
  demanded: boolean;
}

/** Carries the passed first factor to the factor step's pages, for 15 minutes. */
export class PendingSecondFactorCookie extends InteractionStateCookie<PendingSecondFactor> {
  constructor(secure: boolean) {
    super('umbral.mfa', secure, (value) => {
      if (typeof value['accountId'] !== 'string' || !Array.isArray(value['amr'])) return undefined;
      return {
        accountId: value['accountId'],
        amr: value['amr'].filter((m): m is string => typeof m === 'string'),
        enroll: value['enroll'] === true,
        demanded: value['demanded'] === true,
      };
    });
  }
}
