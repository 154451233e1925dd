import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import { z } from 'zod';

/**
 * A portal's public keys: they verify its private_key_jwt client assertions and its signed
 * request objects (RFC 9101). Either published at a URL the provider fetches, or given inline.
 */
export type ClientKeys = { jwksUri: string } | { jwks: { keys: JWK[] } };

export class InvalidClientKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidClientKeysError';
  }
}

/** Members that only a private or symmetric key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const jwksShape = z.object({
  keys: z.array(z.looseObject({ kty: z.enum(['EC', 'RSA', 'OKP']) })).min(1),
});

/** A JWKS document (JSON text) with public keys only; anything else is refused, saying why. */
export function parsePublicJwks(text: string): { keys: JWK[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidClientKeysError('the key set is not JSON');
  }
  return publicJwks(json);
}

/** The key set, if it is a JWKS of valid public keys only. */
export function publicJwks(value: unknown): { keys: JWK[] } {
  const parsed = jwksShape.safeParse(value);
  if (!parsed.success) {
    throw new InvalidClientKeysError('the key set must be {"keys": [...]} with EC, RSA or OKP keys');
  }
  const keys: JWK[] = [];
  for (const [index, key] of parsed.data.keys.entries()) {
    const secret = PRIVATE_MEMBERS.find((member) => member in key);
    if (secret) {
      throw new InvalidClientKeysError(`key ${index + 1} has private member "${secret}": give public keys only`);
    }
    try {
      createPublicKey({ key, format: 'jwk' });
    } catch {
      throw new InvalidClientKeysError(`key ${index + 1} is not a valid ${key.kty} public key`);
    }
    keys.push(key);
  }
  return { keys };
}
