import type { Account, AccountClaims, FindAccount } from 'oidc-provider';
import type { ReadAheadCompanion, ReadAheadTaker } from '../storage/oidc-model-rows.ts';
import { jsonbObjectOf } from '../storage/sql-placeholders.ts';
import { USER_CLAIM_COLUMNS, type UserClaimsRow, type UserRepository } from './users.ts';

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

/**
 * The account's claim columns, read in the same statement as the token that names it (a refresh,
 * a code exchange, userinfo: adapters/model-lookups.ts); findAccount then takes them from the
 * request's read-ahead instead of reading the users table again.
 */
export const USER_CLAIMS_READ_AHEAD: ReadAheadCompanion = {
  model: 'UserClaims',
  tokenField: 'accountId',
  select: (keys) =>
    `select 'UserClaims', id, null, ${jsonbObjectOf(USER_CLAIM_COLUMNS)}, null::timestamptz from users where id in ${keys}`,
};

/** A read-ahead row's payload as the columns it was built from (jsonb gives the time as text). */
function claimsRowOf(payload: unknown): UserClaimsRow {
  const row = payload as Omit<UserClaimsRow, 'updated_at'> & { updated_at: string };
  return { ...row, updated_at: new Date(row.updated_at) };
}

/**
 * oidc-provider's findAccount: disabled users are treated as gone, which ends their sessions' use.
 * `readAhead` takes a row the request read with its token (USER_CLAIMS_READ_AHEAD), if any.
 */
export function createFindAccount(users: UserRepository, readAhead?: ReadAheadTaker): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const ahead = readAhead?.(USER_CLAIMS_READ_AHEAD.model, sub);
    const user = ahead ? claimsRowOf(ahead.payload) : await users.findClaimsById(sub);
    if (!user || user.disabled) return undefined;
    return {
      accountId: user.id,
      claims: () => claimsOf(user),
    };
  };
}
