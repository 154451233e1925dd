import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * oidc-provider's login prompt asks nothing of a browser whose session names an account
 * (no_session), even when findAccount no longer finds it: a disabled or deleted user. Disabling
 * ends their sessions, but one created in the moment before, or left by a failed end, would
 * still answer prompt=none. This check asks for a login instead (login_required for
 * prompt=none), which the disabled account cannot pass.
 */
export function addUnavailableAccountCheck(policy: ReturnType<typeof interactionPolicy.base>): void {
  const login = policy.get('login');
  if (!login) throw new Error('the interaction policy has no login prompt');
  login.checks.add(
    new interactionPolicy.Check(
      'account_unavailable',
      'the account of this session cannot sign in',
      'login_required',
      (ctx: KoaContextWithOIDC) =>
        ctx.oidc.session?.accountId && !ctx.oidc.account && !ctx.oidc.result?.login
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
    1,
  );
}
