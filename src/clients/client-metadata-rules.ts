/**
 * Rules every portal meets however it is registered, by an operator (`umbral clients add`) or by
 * itself (dynamic registration, RFC 7591). oidc-provider's own client validation runs as well:
 * exact redirect URIs without fragments, PKCE S256 for every client, no HMAC algorithms (client
 * secrets are stored hashed, so they cannot be keys), no flow other than the code flow.
 */

import { brandColorProblem } from './brand-color.ts';

/** The client metadata these rules read, as oidc-provider's snake_case names. */
export interface ClientMetadataFields {
  redirect_uris?: unknown;
  post_logout_redirect_uris?: unknown;
  backchannel_logout_uri?: unknown;
  initiate_login_uri?: unknown;
  logo_uri?: unknown;
  client_uri?: unknown;
  tos_uri?: unknown;
  policy_uri?: unknown;
  brand_color?: unknown;
  grant_types?: unknown;
  response_types?: unknown;
  token_endpoint_auth_method?: unknown;
}

const BRANDING_URI_FIELDS = ['logo_uri', 'client_uri', 'tos_uri', 'policy_uri'] as const;

/**
 * The first rule `metadata` breaks, worded with the field first as oidc-provider words its own
 * (a message starting with "redirect_uris" becomes invalid_redirect_uri), or undefined.
 */
export function clientMetadataProblem(metadata: ClientMetadataFields): string | undefined {
  for (const field of ['redirect_uris', 'post_logout_redirect_uris'] as const) {
    const uris = metadata[field];
    if (Array.isArray(uris) && uris.some((uri) => isPlainHttpElsewhere(uri))) {
      return `${field} must use https unless the host is a loopback address (localhost, 127.0.0.1, [::1])`;
    }
  }
  if (isPlainHttpElsewhere(metadata.backchannel_logout_uri)) {
    return 'backchannel_logout_uri must use https unless the host is a loopback address';
  }
  // OpenID Connect Registration allows only https here, and oidc-provider holds every client to it.
  const initiate = typeof metadata.initiate_login_uri === 'string' ? URL.parse(metadata.initiate_login_uri) : null;
  if (metadata.initiate_login_uri !== undefined && (initiate?.protocol !== 'https:' || initiate.hash)) {
    return 'initiate_login_uri must be an https URI without a fragment (OpenID Connect Registration allows no other scheme, even on loopback)';
  }
  // Shown on the hosted pages (src/http/page-branding.ts): fetched by every browser, linked from the footer.
  for (const field of BRANDING_URI_FIELDS) {
    const value = metadata[field];
    if (value === undefined) continue;
    const url = typeof value === 'string' ? URL.parse(value) : null;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || isPlainHttpElsewhere(value)) {
      return `${field} must be an https URL (http only when the host is a loopback address)`;
    }
  }
  if (metadata.brand_color !== undefined) {
    const problem = brandColorProblem(metadata.brand_color);
    if (problem) return problem;
  }
  const grantTypes = Array.isArray(metadata.grant_types) ? metadata.grant_types : [];
  const isPublic = metadata.token_endpoint_auth_method === 'none';
  if (isPublic && grantTypes.includes('client_credentials')) {
    return 'grant_types client_credentials needs a confidential client (token_endpoint_auth_method other than none)';
  }
  if (grantTypes.includes('refresh_token') && !grantTypes.includes('authorization_code')) {
    return 'grant_types refresh_token needs authorization_code';
  }
  const responseTypes = Array.isArray(metadata.response_types) ? metadata.response_types : [];
  if (isPublic && responseTypes.some((type) => type !== 'code')) {
    return 'response_types of a public client must be code: it signs in with the code flow and PKCE';
  }
  return undefined;
}

/** http:// to a host other than loopback: tokens and codes would cross the network in clear. */
function isPlainHttpElsewhere(uri: unknown): boolean {
  const url = typeof uri === 'string' ? URL.parse(uri) : null;
  return url?.protocol === 'http:' && !isLoopbackHost(url.hostname);
}

/** WHATWG URL parsing has normalised the host: 127.1 is 127.0.0.1 by now, and 127.example.com stays a name. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
