import type { Account, AccountClaims, FindAccount } from 'oidc-provider';
import type { UserClaimsRow, UserRepository } from './users.ts';

/** Standard claims per scope; `sub` is the user's stable id, never the email. */
export const CLAIMS_BY_SCOPE = {
  iss: null,
  // How and when the person signed in belong in every ID token, whatever else was asked.
  openid: ['sub', 'acr', 'amr', 'auth_time', 'sid'],
  email: ['email', 'email_verified'],
  profile: ['name', 'updated_at'],
  phone: ['phone_number', 'phone_number_verified'],
};

export function claimsOf(user: UserClaimsRow): AccountClaims {
  return {
    sub: user.id,
    email: user.email,
    email_verified: user.email_verified,
    name: user.name ?? undefined,
    updated_at: Math.floor(user.updated_at.getTime() / 1000),
    phone_number: user.phone ?? undefined,
    phone_number_verified: user.phone ? user.phone_verified : undefined,
  };
}

/** oidc-provider's findAccount: disabled users are treated as gone, which ends their sessions' use. */
export function createFindAccount(users: UserRepository): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await users.findClaimsById(sub);
    if (!user || user.disabled) return undefined;
    return {
      accountId: user.id,
      claims: () => claimsOf(user),
    };
  };
}
