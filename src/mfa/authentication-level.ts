/**
 * How strongly a sign-in proved who the person is: the `acr` values Umbral issues and accepts
 * in `acr_values` or the claims parameter, and the RFC 8176 `amr` methods behind them.
 *
 * - `urn:umbral:acr:sfa`: one factor (a password, or an upstream provider's sign-in).
 * - `urn:umbral:acr:mfa`: two factors: password plus authenticator app, SMS, passkey or recovery
 *   code; or a passkey alone, which proves possession and (with user verification) a PIN or biometric.
 *
 * Levels are ordered: a request for sfa is met by an mfa sign-in. The acr of a token says the level
 * the session reached, which may be above what was asked.
 */
export const ACR_SINGLE_FACTOR = 'urn:umbral:acr:sfa';
export const ACR_MULTI_FACTOR = 'urn:umbral:acr:mfa';
export const ACR_VALUES = [ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR] as const;

export type Level = 'sfa' | 'mfa';

const LEVEL_OF_ACR: Record<string, Level> = { [ACR_SINGLE_FACTOR]: 'sfa', [ACR_MULTI_FACTOR]: 'mfa' };
const RANK: Record<Level, number> = { sfa: 1, mfa: 2 };

/** RFC 8176 methods a second factor adds: authenticator app, SMS, passkey (hardware / synced), recovery code. */
export type SecondFactorMethod = 'otp' | 'sms' | 'hwk' | 'swk';

export function levelOfAmr(amr: readonly string[] | undefined): Level {
  return amr?.includes('mfa') ? 'mfa' : 'sfa';
}

export function acrOfLevel(level: Level): string {
  return level === 'mfa' ? ACR_MULTI_FACTOR : ACR_SINGLE_FACTOR;
}

export function meets(level: Level, wanted: Level): boolean {
  return RANK[level] >= RANK[wanted];
}

/** The amr after a second factor: the first factor's methods, the second's, and `mfa`. */
export function withSecondFactor(firstAmr: readonly string[], method: SecondFactorMethod): string[] {
  return [...new Set([...firstAmr.filter((m) => m !== 'mfa'), method, 'mfa'])];
}

/** What a request asks of the sign-in's strength. */
export interface LevelRequest {
  level: Level;
  /** Essential (claims parameter): the request cannot be met below this level. */
  essential: boolean;
}

interface AcrClaimRequest {
  essential?: unknown;
  value?: unknown;
  values?: unknown;
}

/**
 * The level an `id_token.acr` claim request asks for: the lowest of the known values listed
 * (any of them would do). Values Umbral does not issue are ignored; nothing known, nothing asked.
 */
export function requestedLevel(acr: AcrClaimRequest | null | undefined): LevelRequest | undefined {
  if (!acr || typeof acr !== 'object') return undefined;
  const listed = [
    ...(Array.isArray(acr.values) ? acr.values : []),
    ...(typeof acr.value === 'string' ? [acr.value] : []),
  ];
  const levels = listed
    .map((value) => (typeof value === 'string' ? LEVEL_OF_ACR[value] : undefined))
    .filter((l): l is Level => !!l);
  if (!levels.length) return undefined;
  const level = levels.reduce((low, l) => (RANK[l] < RANK[low] ? l : low));
  return { level, essential: acr.essential === true };
}

/**
 * The same from an authorization request's parameters (as an interaction keeps them):
 * `acr_values` wins over the claims parameter, as in oidc-provider.
 */
export function requestedLevelOfParams(params: Record<string, unknown>): LevelRequest | undefined {
  if (typeof params['acr_values'] === 'string' && params['acr_values']) {
    return requestedLevel({ values: params['acr_values'].split(' ') });
  }
  if (typeof params['claims'] !== 'string') return undefined;
  try {
    const claims = JSON.parse(params['claims']) as { id_token?: { acr?: AcrClaimRequest } };
    return requestedLevel(claims?.id_token?.acr);
  } catch {
    return undefined;
  }
}
