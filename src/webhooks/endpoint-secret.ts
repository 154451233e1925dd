import { randomBytes } from 'node:crypto';

/** Standard Webhooks' secret form: `whsec_` and the base64 of the key (32 random bytes here). */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The SecretBox context: a sealed secret copied to another endpoint's row does not open there. */
export function endpointSecretContext(endpointId: string): string {
  return `webhook-endpoint:${endpointId}`;
}
