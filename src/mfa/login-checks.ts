import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { levelOfAmr, meets, requestedLevel } from './authentication-level.ts';

/** The login prompt's reason when only the second factor is missing (the factor step, not the password). */
export const STEP_UP_REASON = 'mfa_step_up';

export interface SecondFactorDirectory {
  hasFactors(accountId: string): Promise<boolean>;
}

/** The client metadata property set by `umbral clients add --require-mfa`. */
export function clientRequiresMfa(client: { [key: string]: unknown } | undefined): boolean {
  return client?.['require_mfa'] === true;
}

/**
 * Replaces oidc-provider's essential_acr(s) checks (which compare acr values literally, and so
 * would ask again forever for "sfa" from an mfa session) with one that compares levels, and asks
 * for the second factor when the request (acr_values, claims) or the client (require_mfa) wants
 * the MFA level and the session is below it: step-up. A voluntary request from a user who has no
 * factor is not asked again (nothing could meet it); an essential one, or a require_mfa client,
 * is, and the login then enrolls a factor.
 */
export function addSecondFactorChecks(
  policy: ReturnType<typeof interactionPolicy.base>,
  directory: SecondFactorDirectory,
): void {
  const login = policy.get('login');
  if (!login) throw new Error('the interaction policy has no login prompt');
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(
    // prompt=none gets login_required: the End-User must authenticate (again) to reach the level.
    new interactionPolicy.Check(
      STEP_UP_REASON,
      'the requested authentication level was not reached',
      'login_required',
      async (ctx: KoaContextWithOIDC) => {
        const { oidc } = ctx;
        // A login just completed in this request: its own policy (the factor step) already applied.
        if (!oidc.session?.accountId || oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        const requested = requestedLevel(
          (oidc.claims as { id_token?: { acr?: Record<string, unknown> } })?.id_token?.acr,
        );
        const clientDemands = clientRequiresMfa(oidc.client as unknown as Record<string, unknown>);
        const wanted = clientDemands ? 'mfa' : requested?.level;
        if (!wanted || meets(levelOfAmr(oidc.session.amr), wanted)) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        if (clientDemands || requested?.essential) return interactionPolicy.Check.REQUEST_PROMPT;
        return (await directory.hasFactors(oidc.session.accountId))
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
}
