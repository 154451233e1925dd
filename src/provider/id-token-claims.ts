import type { AccountClaims, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { CLAIMS_BY_SCOPE } from '../users/user-claims.ts';

/**
 * Umbral puts the granted scope claims (email, name…) in ID tokens as well as in userinfo, as RP
 * libraries expect (conformIdTokenClaims: false). A portal registered with strict_id_token_claims
 * gets oidc-provider's conform behaviour instead, per client: its ID tokens carry the openid
 * claims plus those it named in the claims parameter, and the scope claims reach only userinfo.
 */
export function withStrictIdTokenClaims(findAccount: FindAccount): FindAccount {
  return async (ctx, sub, token) => {
    const account = await findAccount(ctx, sub, token);
    if (!account || !isStrict(ctx)) return account;
    return {
      ...account,
      async claims(use, scope, claims, rejected) {
        const all = await account.claims(use, scope, claims, rejected);
        if (use !== 'id_token') return all;
        const allowed = new Set([...CLAIMS_BY_SCOPE.openid, ...Object.keys(claims ?? {})]);
        return Object.fromEntries(Object.entries(all).filter(([name]) => allowed.has(name))) as AccountClaims;
      },
    };
  };
}

function isStrict(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc?.client?.['strict_id_token_claims'] === true;
}
