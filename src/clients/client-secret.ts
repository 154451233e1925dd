import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256$';

/** A new client secret: 256 random bits, shown once, never stored in clear. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Client secrets are high-entropy random strings, so one SHA-256 is enough at rest
 * (a slow hash buys nothing against guessing 256 bits and would cost every token request).
 */
export function hashClientSecret(secret: string): string {
  return PREFIX + hash('sha256', secret, 'base64url'); // one-shot: checked on every token request
}

/** Whether a stored value is already a hash made here (a generated secret never contains "$"). */
export function isHashedClientSecret(value: string): boolean {
  return value.startsWith(PREFIX);
}

export function clientSecretMatches(stored: string | undefined, presented: string): boolean {
  if (!stored?.startsWith(PREFIX)) return false;
  const expected = Buffer.from(stored);
  const actual = Buffer.from(hashClientSecret(presented));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
