import { type InteractionState, InteractionStateCookie } from '../http/interaction-state-cookie.ts';
import { isOrganizationAnswer, type OrganizationAnswer } from './organization-choice.ts';

/** A sign-in whose factors passed, paused by the organization step (the picker, or its second factor). */
export interface PendingOrganization extends InteractionState {
  accountId: string;
  amr: string[];
  acr?: string | undefined;
  /** What the person chose already: the organization step's second pass (after the factor) keeps it. */
  chosen?: OrganizationAnswer | undefined;
}

/** Carries the passed sign-in to the picker and through the organization's second factor, for 15 minutes. */
export class PendingOrganizationCookie extends InteractionStateCookie<PendingOrganization> {
  constructor(secure: boolean) {
    super('umbral.org', secure, (value) => {
      if (typeof value['accountId'] !== 'string' || !Array.isArray(value['amr'])) return undefined;
      const chosen = value['chosen'];
      return {
        accountId: value['accountId'],
        amr: value['amr'].filter((m): m is string => typeof m === 'string'),
        ...(typeof value['acr'] === 'string' ? { acr: value['acr'] } : {}),
        ...(isOrganizationAnswer(chosen)
          ? { chosen: 'id' in chosen ? { id: chosen.id } : { none: true as const } }
          : {}),
      };
    });
  }
}
