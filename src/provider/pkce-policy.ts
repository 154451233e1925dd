import { type Client, errors, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * oidc-provider's pkce.required, asked when an authorization request has no code_challenge.
 * PKCE is required unless a confidential client was registered with `pkce: 'optional'` (its
 * library cannot send PKCE); such a request must then carry a nonce, which OAuth 2.1 accepts
 * in PKCE's place for an OpenID client. A code_challenge that is sent is always checked (S256 only).
 */
export function pkceRequired(ctx: KoaContextWithOIDC, client: Client): boolean {
  if (client.clientAuthMethod === 'none' || client['pkce'] !== 'optional') return true;
  const nonce = (ctx.oidc.params as { nonce?: unknown } | undefined)?.nonce;
  if (typeof nonce === 'string' && nonce !== '') return false;
  // Thrown where oidc-provider would throw its own PKCE error, so it reaches the redirect_uri the same way.
  throw new errors.InvalidRequest('a request without PKCE must carry a nonce');
}
