import type { AdminScope } from '../admin-api/admin-scopes.ts';
import type { OrganizationMode } from '../organizations/client-organization.ts';
import type { PkceMode } from '../provider/client-metadata.ts';
import { DEFAULT_ID_TOKEN_SIGNING_ALG, type SigningAlg } from '../provider/signing-keys.ts';
import { type ClientKeys, InvalidClientKeysError, publicJwks } from './client-keys.ts';
import { clientMetadataProblem } from './client-metadata-rules.ts';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** A portal as an operator describes it (the CLI's options, the Admin API's fields). */
export interface ClientRegistration {
  clientId: string;
  clientSecret?: string | undefined;
  name?: string | undefined;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string | undefined;
  grantTypes: GrantType[];
  firstParty: boolean;
  /** A sign-in to this portal ends the user's other sessions (see single-session-policy.ts). */
  singleSession?: boolean | undefined;
  /** Every sign-in to this portal needs a second factor; users without one enroll during the login. */
  requireMfa?: boolean | undefined;
  public: boolean;
  /** Public keys: the client authenticates with private_key_jwt and may sign request objects. */
  keys?: ClientKeys | undefined;
  /** How its ID tokens (and back-channel logout tokens) are signed; RS256 when not given. */
  idTokenSigningAlg?: SigningAlg | undefined;
  /** ID tokens carry only the openid claims and those asked for by name; scope claims reach only userinfo. */
  strictIdTokenClaims?: boolean | undefined;
  /** 'optional': a confidential portal whose library cannot send PKCE may omit it when it sends a nonce. */
  pkce?: PkceMode | undefined;
  /** Whether its sign-ins are for an organization the person belongs to (src/organizations/client-organization.ts). */
  organization?: OrganizationMode | undefined;
  /**
   * A person without an organization gives their company's data during the sign-in, which creates
   * it with them as admin (src/organizations/company-step.ts). Implies `organization: required`
   * unless `organization` says otherwise: every sign-in there ends with a company.
   */
  collectCompany?: boolean | undefined;
  /** Where the portal starts its own sign-in (OpenID Connect `initiate_login_uri`): people land there from invitations. */
  initiateLoginUri?: string | undefined;
  /** Its branding on the hosted pages (src/http/page-branding.ts): logo, home page, terms, privacy policy, colour. */
  logoUri?: string | undefined;
  clientUri?: string | undefined;
  tosUri?: string | undefined;
  policyUri?: string | undefined;
  /** #RRGGBB, dark enough for white text (src/clients/brand-color.ts). */
  brandColor?: string | undefined;
  /** Admin API scopes it takes with client_credentials (src/provider/admin-resource.ts); implies that grant. */
  adminScopes?: AdminScope[] | undefined;
}

export class ClientInputError extends Error {
  constructor(
    message: string,
    /** The field at fault, as the Admin API names it (snake_case), when one is. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ClientInputError';
  }
}

/** The client id is taken. */
export class ClientExistsError extends ClientInputError {
  constructor(clientId: string) {
    super(`a client with id ${clientId} already exists`, 'client_id');
    this.name = 'ClientExistsError';
  }
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** Umbral's rules for a registration, before oidc-provider's own validation; throws ClientInputError. `reservedIds`: Umbral's own account page. */
export function checkRegistration(input: ClientRegistration, reservedIds: string[]): void {
  if (!CLIENT_ID.test(input.clientId)) {
    throw new ClientInputError('client id must be 1 to 128 letters, digits or . _ ~ -', 'client_id');
  }
  if (reservedIds.includes(input.clientId)) {
    throw new ClientInputError(`client id ${input.clientId} is Umbral's own account page`, 'client_id');
  }
  if (input.public && input.clientSecret !== undefined) {
    throw new ClientInputError('a public client has no secret', 'client_secret');
  }
  const grantTypes = effectiveGrantTypes(input);
  if (input.public && grantTypes.includes('client_credentials')) {
    throw new ClientInputError('client_credentials needs a confidential client (drop --public)', 'grant_types');
  }
  if (input.public && input.pkce === 'optional') {
    throw new ClientInputError(
      'pkce optional needs a confidential client: a public client has no secret, so PKCE is what protects its codes',
      'pkce',
    );
  }
  if (input.clientSecret !== undefined && input.clientSecret.length < 32) {
    throw new ClientInputError(
      'client secret must be at least 32 characters; omit it to have one generated',
      'client_secret',
    );
  }
  const usesBrowser = grantTypes.includes('authorization_code');
  if (usesBrowser && input.redirectUris.length === 0) {
    throw new ClientInputError('authorization_code needs at least one --redirect-uri', 'redirect_uris');
  }
  if (!usesBrowser && grantTypes.includes('refresh_token')) {
    throw new ClientInputError('refresh_token needs authorization_code', 'grant_types');
  }
  if (input.keys && (input.public || input.clientSecret !== undefined)) {
    throw new ClientInputError('a client with keys authenticates with them: drop --public and --client-secret', 'jwks');
  }
  if (input.keys && 'jwks' in input.keys) {
    try {
      publicJwks(input.keys.jwks);
    } catch (error) {
      // oidc-provider would take private keys too; a portal's private key must never be given to us.
      if (error instanceof InvalidClientKeysError) throw new ClientInputError(error.message, 'jwks');
      throw error;
    }
  }
}

/** Admin scopes imply client_credentials. */
export function effectiveGrantTypes(input: Pick<ClientRegistration, 'grantTypes' | 'adminScopes'>): GrantType[] {
  const grants = [...input.grantTypes];
  if (input.adminScopes?.length && !grants.includes('client_credentials')) grants.push('client_credentials');
  return grants;
}

export function authMethodOf(input: Pick<ClientRegistration, 'public' | 'keys'>): string {
  return input.public ? 'none' : input.keys ? 'private_key_jwt' : 'client_secret_basic';
}

/**
 * The oidc-provider metadata of a registration. `secretMembers` are the stored secret's members
 * (hash, date, previous hashes), kept apart so an update never touches them.
 */
export function registrationMetadata(
  input: ClientRegistration,
  secretMembers: Record<string, unknown>,
): Record<string, unknown> {
  const grantTypes = effectiveGrantTypes(input);
  const usesBrowser = grantTypes.includes('authorization_code');
  const metadata: Record<string, unknown> = {
    client_id: input.clientId,
    ...(input.name ? { client_name: input.name } : {}),
    ...secretMembers,
    token_endpoint_auth_method: authMethodOf(input),
    ...(input.keys && 'jwksUri' in input.keys ? { jwks_uri: input.keys.jwksUri } : {}),
    ...(input.keys && 'jwks' in input.keys ? { jwks: input.keys.jwks } : {}),
    grant_types: grantTypes,
    response_types: usesBrowser ? ['code'] : [],
    redirect_uris: input.redirectUris,
    post_logout_redirect_uris: input.postLogoutRedirectUris,
    ...(input.backchannelLogoutUri
      ? { backchannel_logout_uri: input.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
    id_token_signed_response_alg: input.idTokenSigningAlg ?? DEFAULT_ID_TOKEN_SIGNING_ALG,
    first_party: input.firstParty,
    ...(input.strictIdTokenClaims ? { strict_id_token_claims: true } : {}),
    ...(input.pkce === 'optional' ? { pkce: 'optional' } : {}),
    ...(input.singleSession ? { single_session: true } : {}),
    ...(input.requireMfa ? { require_mfa: true } : {}),
    ...(input.organization || input.collectCompany ? { organization: input.organization ?? 'required' } : {}),
    ...(input.collectCompany ? { collect_company: true } : {}),
    ...(input.initiateLoginUri !== undefined ? { initiate_login_uri: input.initiateLoginUri } : {}),
    ...(input.logoUri !== undefined ? { logo_uri: input.logoUri } : {}),
    ...(input.clientUri !== undefined ? { client_uri: input.clientUri } : {}),
    ...(input.tosUri !== undefined ? { tos_uri: input.tosUri } : {}),
    ...(input.policyUri !== undefined ? { policy_uri: input.policyUri } : {}),
    ...(input.brandColor !== undefined ? { brand_color: input.brandColor } : {}),
    ...(input.adminScopes?.length ? { admin_scopes: input.adminScopes } : {}),
  };
  const problem = clientMetadataProblem(metadata);
  if (problem) throw new ClientInputError(problem, problem.split(' ')[0]);
  return metadata;
}

/** The registration a stored client's metadata describes (its secret aside): what an update starts from. */
export function registrationOf(metadata: Record<string, unknown>): ClientRegistration {
  const text = (key: string) => (typeof metadata[key] === 'string' ? (metadata[key] as string) : undefined);
  const list = (key: string) => (Array.isArray(metadata[key]) ? (metadata[key] as string[]) : []);
  const flag = (key: string) => metadata[key] === true;
  const adminScopes = list('admin_scopes') as AdminScope[];
  const grantTypes = list('grant_types') as GrantType[];
  const jwks = metadata['jwks'] as { keys: [] } | undefined;
  const jwksUri = text('jwks_uri');
  return {
    clientId: String(metadata['client_id']),
    name: text('client_name'),
    redirectUris: list('redirect_uris'),
    postLogoutRedirectUris: list('post_logout_redirect_uris'),
    backchannelLogoutUri: text('backchannel_logout_uri'),
    grantTypes,
    firstParty: flag('first_party'),
    singleSession: flag('single_session'),
    requireMfa: flag('require_mfa'),
    public: metadata['token_endpoint_auth_method'] === 'none',
    keys: jwksUri ? { jwksUri } : jwks ? { jwks } : undefined,
    idTokenSigningAlg: text('id_token_signed_response_alg') as SigningAlg | undefined,
    strictIdTokenClaims: flag('strict_id_token_claims'),
    pkce: text('pkce') as PkceMode | undefined,
    organization: text('organization') as OrganizationMode | undefined,
    collectCompany: flag('collect_company'),
    initiateLoginUri: text('initiate_login_uri'),
    logoUri: text('logo_uri'),
    clientUri: text('client_uri'),
    tosUri: text('tos_uri'),
    policyUri: text('policy_uri'),
    brandColor: text('brand_color'),
    adminScopes: adminScopes.length ? adminScopes : undefined,
  };
}
