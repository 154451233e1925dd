import type { ClientMetadata } from 'oidc-provider';

/**
 * The account page signs people in through Umbral's own authorization endpoint, as any portal
 * does, so every policy of the login (verification, second factor, throttling) applies to it.
 * It is a static client of the provider (not in the clients table): it always matches ISSUER
 * and an operator cannot remove it by accident.
 */
export const ACCOUNT_CLIENT_ID = 'umbral-account';
export const ACCOUNT_CALLBACK_PATH = '/account/callback';

export function accountClientMetadata(issuer: string, productName: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: productName,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${issuer}${ACCOUNT_CALLBACK_PATH}`],
    post_logout_redirect_uris: [`${issuer}/account`],
    first_party: true,
  };
}
