import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import { deleteClient } from '../../adapters/postgres-adapter.ts';
import { ACCOUNT_CLIENT_ID } from '../account/account-client.ts';
import type { OrganizationMode } from '../organizations/client-organization.ts';
import type { PkceMode } from '../provider/client-metadata.ts';
import { DEFAULT_ID_TOKEN_SIGNING_ALG, type SigningAlg } from '../provider/signing-keys.ts';
import type { Database } from '../storage/schema.ts';
import { notifyClientChanged } from './client-changes.ts';
import { type ClientKeys, InvalidClientKeysError, publicJwks } from './client-keys.ts';
import { clientMetadataProblem } from './client-metadata-rules.ts';
import { generateClientSecret, hashClientSecret } from './client-secret.ts';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

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
  /** Where the portal starts its own sign-in (OpenID Connect `initiate_login_uri`): people land there from invitations. */
  initiateLoginUri?: string | undefined;
  /** Its branding on the hosted pages (src/http/page-branding.ts): logo, home page, terms, privacy policy, colour. */
  logoUri?: string | undefined;
  clientUri?: string | undefined;
  tosUri?: string | undefined;
  policyUri?: string | undefined;
  /** #RRGGBB, dark enough for white text (src/clients/brand-color.ts). */
  brandColor?: string | undefined;
}

export class ClientInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientInputError';
  }
}

/** What `clients add` prints: the stored metadata with the secret in clear, shown this once. */
export type RegisteredClient = Record<string, unknown> & { client_id: string; client_secret?: string };

export class ClientRegistry {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly provider: Provider,
  ) {}

  async register(input: ClientRegistration): Promise<RegisteredClient> {
    if (!/^[A-Za-z0-9._~-]{1,128}$/.test(input.clientId)) {
      throw new ClientInputError('client id must be 1 to 128 letters, digits or . _ ~ -');
    }
    if (input.clientId === ACCOUNT_CLIENT_ID)
      throw new ClientInputError(`client id ${ACCOUNT_CLIENT_ID} is Umbral's own account page`);
    if (input.public && input.clientSecret !== undefined) throw new ClientInputError('a public client has no secret');
    if (input.public && input.grantTypes.includes('client_credentials')) {
      throw new ClientInputError('client_credentials needs a confidential client (drop --public)');
    }
    if (input.public && input.pkce === 'optional') {
      throw new ClientInputError(
        'pkce optional needs a confidential client: a public client has no secret, so PKCE is what protects its codes',
      );
    }
    if (input.clientSecret !== undefined && input.clientSecret.length < 32) {
      throw new ClientInputError('client secret must be at least 32 characters; omit it to have one generated');
    }
    const usesBrowser = input.grantTypes.includes('authorization_code');
    if (usesBrowser && input.redirectUris.length === 0) {
      throw new ClientInputError('authorization_code needs at least one --redirect-uri');
    }
    if (!usesBrowser && input.grantTypes.includes('refresh_token')) {
      throw new ClientInputError('refresh_token needs authorization_code');
    }
    if (input.keys && (input.public || input.clientSecret !== undefined)) {
      throw new ClientInputError('a client with keys authenticates with them: drop --public and --client-secret');
    }
    if (input.keys && 'jwks' in input.keys) checkPublicKeys(input.keys.jwks);
    const secret = input.public || input.keys ? undefined : (input.clientSecret ?? generateClientSecret());
    const metadata: Record<string, unknown> = {
      client_id: input.clientId,
      ...(input.name ? { client_name: input.name } : {}),
      ...(secret ? { client_secret: hashClientSecret(secret) } : {}),
      token_endpoint_auth_method: input.public ? 'none' : input.keys ? 'private_key_jwt' : 'client_secret_basic',
      ...(input.keys && 'jwksUri' in input.keys ? { jwks_uri: input.keys.jwksUri } : {}),
      ...(input.keys && 'jwks' in input.keys ? { jwks: input.keys.jwks } : {}),
      grant_types: input.grantTypes,
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
      ...(input.organization ? { organization: input.organization } : {}),
      ...(input.initiateLoginUri !== undefined ? { initiate_login_uri: input.initiateLoginUri } : {}),
      ...(input.logoUri !== undefined ? { logo_uri: input.logoUri } : {}),
      ...(input.clientUri !== undefined ? { client_uri: input.clientUri } : {}),
      ...(input.tosUri !== undefined ? { tos_uri: input.tosUri } : {}),
      ...(input.policyUri !== undefined ? { policy_uri: input.policyUri } : {}),
      ...(input.brandColor !== undefined ? { brand_color: input.brandColor } : {}),
    };
    const problem = clientMetadataProblem(metadata);
    if (problem) throw new ClientInputError(problem);
    try {
      await this.provider.Client.validate(metadata as never);
    } catch (error) {
      const e = error as { error_description?: string; message: string };
      throw new ClientInputError(e.error_description ?? e.message);
    }
    const inserted = await this.db
      .insertInto('clients')
      .values({ client_id: input.clientId, metadata: JSON.stringify(metadata) })
      .onConflict((oc) => oc.column('client_id').doNothing())
      .returning('client_id')
      .executeTakeFirst();
    if (!inserted) throw new ClientInputError(`a client with id ${input.clientId} already exists`);
    // Nodes that were asked for this id before cached it as unknown: they forget that now.
    await notifyClientChanged(this.db, input.clientId);
    return { ...metadata, ...(secret ? { client_secret: secret } : {}) } as RegisteredClient;
  }

  async list(): Promise<Array<Record<string, unknown>>> {
    const rows = await this.db.selectFrom('clients').select(['metadata', 'created_at']).orderBy('created_at').execute();
    return rows.map(({ metadata }) => {
      const { client_secret, ...visible } = metadata as Record<string, unknown>;
      return visible;
    });
  }

  /** Removes the client and every token, code and grant issued to it (a registration access token too). */
  async remove(clientId: string): Promise<boolean> {
    return deleteClient(this.db, clientId);
  }
}

/** oidc-provider would take private keys too; a portal's private key must never be given to us. */
function checkPublicKeys(jwks: unknown): void {
  try {
    publicJwks(jwks);
  } catch (error) {
    if (error instanceof InvalidClientKeysError) throw new ClientInputError(error.message);
    throw error;
  }
}
