import type { JWK } from 'jose';
import { type Configuration, type FindAccount, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { accountClientMetadata } from '../account/account-client.ts';
import type { Config } from '../config/config.ts';
import type { CookieSigner } from '../http/cookie-signer.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { ACR_VALUES } from '../mfa/authentication-level.ts';
import { addSecondFactorChecks, type SecondFactorDirectory } from '../mfa/login-checks.ts';
import { ORGANIZATION_CLAIMS, ORGANIZATION_SCOPE } from '../organizations/client-organization.ts';
import type { OrganizationAuthorizations } from '../organizations/organization-authorizations.ts';
import type { OrganizationTokens } from '../organizations/organization-tokens.ts';
import { CLAIMS_BY_SCOPE } from '../users/user-claims.ts';
import { adminResourceIndicators, adminTokenClaims, isAdminApiToken } from './admin-resource.ts';
import { extraClientMetadata } from './client-metadata.ts';
import { registrationFeatures, type TakeInitialAccessToken } from './dynamic-registration.ts';
import { withStrictIdTokenClaims } from './id-token-claims.ts';
import { pkceRequired } from './pkce-policy.ts';
import { DEFAULT_ID_TOKEN_SIGNING_ALG, SIGNING_ALGS } from './signing-keys.ts';
import { addUnavailableAccountCheck } from './unavailable-account-check.ts';

/** Lifetimes in seconds. */
export const TTL = {
  AccessToken: 60 * 60,
  AuthorizationCode: 60,
  ClientCredentials: 10 * 60,
  IdToken: 60 * 60,
  Interaction: 60 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  Session: 14 * 24 * 60 * 60,
  Grant: 14 * 24 * 60 * 60,
} as const;

/**
 * How long a retired signing key stays published: a day (for servers of an older release, which
 * load keys only at start-up, to be restarted), plus the lifetime of the last token signed before it.
 * Current servers reload keys within KEY_RELOAD_INTERVAL_SECONDS (src/provider/key-reload.ts).
 */
export const ROTATION_RESTART_WINDOW_SECONDS = 24 * 60 * 60;
export const RETIRED_KEY_PUBLISH_SECONDS = ROTATION_RESTART_WINDOW_SECONDS + TTL.IdToken + 5 * 60;

export interface ProviderSettings {
  config: Config;
  jwks: JWK[];
  /** Signs and checks cookies with the database's keys, newest first (src/http/cookie-signer.ts). */
  cookieKeys: CookieSigner;
  findAccount: FindAccount;
  pages: PageRenderer;
  /** Who has a second factor: the step-up check asks (src/mfa/login-checks.ts). */
  secondFactors?: SecondFactorDirectory;
  /** Spends a single-use initial access token of dynamic registration (CLIENT_REGISTRATION=token). */
  takeInitialAccessToken: TakeInitialAccessToken;
  /** The organization of each authorization and its tokens (src/organizations); the CLI needs none. */
  organizations?: { authorizations: OrganizationAuthorizations; tokens: OrganizationTokens } | undefined;
}

export function cookieNames(secure: boolean) {
  // __Host- needs Path=/ (the session cookie); interaction cookies are path-scoped, so __Secure-.
  return secure
    ? { session: '__Host-umbral.session', interaction: '__Secure-umbral.interaction', resume: '__Secure-umbral.resume' }
    : { session: 'umbral.session', interaction: 'umbral.interaction', resume: 'umbral.resume' };
}

/**
 * oidc-provider's prompts plus `create` (Initiating User Registration via OpenID Connect):
 * prompt=create opens the sign-up page, and discovery lists it in prompt_values_supported.
 * Requestable, so it is asked only when the portal asks for it, until a login answers it.
 */
function interactionPolicyWithCreate(
  secondFactors?: SecondFactorDirectory,
  organizations?: Pick<OrganizationAuthorizations, 'extendPolicy'>,
) {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0);
  // A session of a disabled or deleted account signs nothing in (src/users/user-administration.ts).
  addUnavailableAccountCheck(policy);
  // acr_values, the claims parameter and require_mfa portals step a one-factor session up (src/mfa).
  if (secondFactors) addSecondFactorChecks(policy, secondFactors);
  // The organization of the authorization: its own prompt before consent, its second factor (src/organizations).
  organizations?.extendPolicy(policy);
  return policy;
}

function isFirstParty(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.client?.['first_party'] === true;
}

/** First-party portals are the operator's own: their users are not asked to consent. */
async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
  if (grantId) return ctx.oidc.provider.Grant.find(grantId);
  if (!isFirstParty(ctx) || !ctx.oidc.session?.accountId) return undefined;
  const grant = new ctx.oidc.provider.Grant({
    clientId: ctx.oidc.client!.clientId,
    accountId: ctx.oidc.session.accountId,
  });
  const params = ctx.oidc.params as { scope?: string };
  grant.addOIDCScope(params.scope ?? 'openid');
  const claims = ctx.oidc.claims as { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> };
  if (claims.id_token) grant.addOIDCClaims(Object.keys(claims.id_token));
  if (claims.userinfo) grant.addOIDCClaims(Object.keys(claims.userinfo));
  // A resource named (the Admin API's org:admin): its requested scopes, which the API checks at each call.
  const requested = new Set((params.scope ?? '').split(' '));
  for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
    const scopes = [...server.scopes].filter((scope) => requested.has(scope));
    if (scopes.length) grant.addResourceScope(indicator, scopes.join(' '));
  }
  await grant.save();
  return grant;
}

export function buildProviderConfiguration(settings: ProviderSettings): Configuration {
  const { config, pages, organizations } = settings;
  const findAccount = organizations ? organizations.tokens.wrapFindAccount(settings.findAccount) : settings.findAccount;
  return {
    findAccount: withStrictIdTokenClaims(findAccount),
    // Umbral's own account page is a portal like any other (src/account/account-client.ts).
    clients: [accountClientMetadata(config.issuer, config.productName)],
    jwks: { keys: settings.jwks as never },
    cookies: {
      keys: settings.cookieKeys,
      names: cookieNames(config.secure),
      long: { httpOnly: true, sameSite: 'lax', secure: config.secure },
      short: { httpOnly: true, sameSite: 'lax', secure: config.secure },
    },
    claims: { ...CLAIMS_BY_SCOPE, [ORGANIZATION_SCOPE]: ORGANIZATION_CLAIMS },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'phone', ORGANIZATION_SCOPE],
    // organization=<id or slug> names the organization of the authorization (src/organizations).
    ...(organizations ? { extraParams: organizations.authorizations.extraParams } : {}),
    // Access tokens keep their organization's claims, which introspection answers with.
    // A company admin's Admin API token names the organization it may manage (org_id).
    ...(organizations
      ? {
          extraTokenClaims: (ctx, token) =>
            isAdminApiToken(token)
              ? adminTokenClaims(organizations.tokens, token)
              : organizations.tokens.extraTokenClaims(ctx, token),
        }
      : {}),
    responseTypes: ['code'],
    // Required, but for confidential portals registered with pkce: 'optional' that send a nonce.
    pkce: { required: pkceRequired },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // OpenID Connect Registration's default, and what RP libraries expect when told nothing.
      id_token_signed_response_alg: DEFAULT_ID_TOKEN_SIGNING_ALG,
    },
    // Every alg there is a signing key for (signing-keys.ts). No HMAC algorithms: client secrets
    // are stored hashed, so they cannot be used as keys. Back-channel logout tokens are signed
    // with the client's id_token_signed_response_alg (oidc-provider's IdToken, use 'logout').
    enabledJWA: {
      idTokenSigningAlgValues: [...SIGNING_ALGS],
      userinfoSigningAlgValues: [...SIGNING_ALGS],
      introspectionSigningAlgValues: [...SIGNING_ALGS],
      authorizationSigningAlgValues: [...SIGNING_ALGS],
      clientAuthSigningAlgValues: [...SIGNING_ALGS],
      requestObjectSigningAlgValues: [...SIGNING_ALGS],
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    extraClientMetadata,
    features: {
      devInteractions: { enabled: false },
      ...registrationFeatures(config.clientRegistration, settings.takeInitialAccessToken),
      clientCredentials: { enabled: true },
      // The Admin API's tokens (urn:umbral:admin): src/provider/admin-resource.ts.
      resourceIndicators: adminResourceIndicators(),
      introspection: {
        enabled: true,
        // A client may introspect its own tokens; the operator's own (first-party, confidential)
        // backends may introspect any, as resource servers do. Third parties never see others' tokens.
        // A token whose organization ended, was suspended or lost the person reads as inactive.
        allowedPolicy: async (_ctx, client, token) =>
          (token.clientId === client.clientId ||
            (client['first_party'] === true && client.clientAuthMethod !== 'none')) &&
          (organizations
            ? await organizations.tokens.stillCounts(token as { grantId?: string; accountId?: string })
            : true),
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      claimsParameter: { enabled: true },
      // Signed request objects (RFC 9101) from portals with registered keys, by value or pushed (PAR);
      // unsigned ones (alg none) are refused, since requestObjectSigningAlgValues does not list none.
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          await pages.render(ctx, 'logout', { form, clientName: ctx.oidc.client?.clientName });
        },
        async postLogoutSuccessSource(ctx) {
          await pages.render(ctx, 'logged-out', { clientName: ctx.oidc.client?.clientName });
        },
      },
    },
    clientBasedCORS(ctx, origin, client) {
      if (origin === 'null') return false;
      if (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none') {
        return (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin);
      }
      return false;
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: interactionPolicyWithCreate(settings.secondFactors, organizations?.authorizations),
    },
    // oidc-provider does not publish prompt_values_supported itself; clients look for "create" there.
    discovery: {
      claim_types_supported: ['normal'],
      prompt_values_supported: [
        'none',
        ...interactionPolicyWithCreate()
          .filter((p) => p.requestable)
          .map((p) => p.name),
      ],
    },
    loadExistingGrant: organizations
      ? organizations.authorizations.wrapLoadExistingGrant(loadExistingGrant)
      : loadExistingGrant,
    // Refresh tokens for clients registered with the refresh_token grant; third parties must ask for offline_access.
    async issueRefreshToken(_ctx, client, code) {
      if (!client.grantTypeAllowed('refresh_token')) return false;
      return client['first_party'] === true || code.scopes.has('offline_access');
    },
    ttl: { ...TTL },
    async renderError(ctx, out, error) {
      ctx.type = 'html';
      await pages.renderError(ctx, out, error);
    },
    ...(config.allowPrivateNetworkFetch
      ? {
          // Without oidc-provider's SSRF-guarding dispatcher: operator-registered portals may live on private addresses.
          fetch: (url, options) => {
            const { dispatcher: _guard, ...rest } = (options ?? {}) as RequestInit & { dispatcher?: unknown };
            return globalThis.fetch(url, rest);
          },
        }
      : {}),
    // Advertised in discovery (acr_values_supported); see src/mfa/authentication-level.ts.
    acrValues: [...ACR_VALUES],
    // Granted scope claims go in ID tokens too; strict_id_token_claims portals opt out (id-token-claims.ts).
    conformIdTokenClaims: false,
    allowOmittingSingleRegisteredRedirectUri: true,
  };
}
