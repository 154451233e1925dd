import { hashIdentifier, throttledAddress } from '../throttling/throttle-keys.ts';

/** At most `limit` events per fixed window of `windowMs`. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface PasswordResetLimits {
  /** "Forgot password" requests naming one email, from anywhere: caps the mail one address can be sent. */
  forgotPerAccount: RateLimit;
  /** "Forgot password" requests from one address, any email: caps mail bombing and probing. */
  forgotPerIp: RateLimit;
  /** Reset links that turned out invalid, from one address. */
  badTokensPerIp: RateLimit;
}

const MINUTE = 60 * 1000;

export const DEFAULT_PASSWORD_RESET_LIMITS: Readonly<PasswordResetLimits> = Object.freeze({
  forgotPerAccount: { limit: 3, windowMs: 15 * MINUTE },
  forgotPerIp: { limit: 20, windowMs: 60 * MINUTE },
  badTokensPerIp: { limit: 10, windowMs: 15 * MINUTE },
});

/** The `throttle` rows these limits use; prefixes apart from the login throttle's (acct:, acct-ip:, ip:). */
export const resetLimitKeys = {
  forgotAccount: (email: string) => `pwreset-acct:${hashIdentifier(email)}`,
  forgotIp: (ip: string) => `pwreset-ip:${throttledAddress(ip)}`,
  badTokenIp: (ip: string) => `pwreset-bad:${throttledAddress(ip)}`,
};
