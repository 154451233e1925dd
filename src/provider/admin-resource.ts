import type { AccessToken, ClientCredentials } from 'oidc-provider';
import { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import {
  ADMIN_RESOURCE,
  ADMIN_TOKEN_TTL_SECONDS,
  type AdminScope,
  isAdminScope,
  ORG_ADMIN_SCOPE,
} from '../admin-api/admin-scopes.ts';
import type { OrganizationTokens } from '../organizations/organization-tokens.ts';

type Features = NonNullable<Configuration['features']>;

/** The algorithm of Admin API tokens: the API verifies them locally, with the published ES256 key. */
export const ADMIN_TOKEN_ALG = 'ES256';

/** The admin scopes a client was registered with (`clients add --admin-scopes`). */
export function adminScopesOf(client: unknown): AdminScope[] {
  const scopes = (client as Record<string, unknown> | undefined)?.['admin_scopes'];
  return Array.isArray(scopes) ? scopes.filter(isAdminScope) : [];
}

/**
 * Resource indicators (RFC 8707) with one resource server: the Admin API, `urn:umbral:admin`.
 * Its tokens are JWT access tokens (RFC 9068) with that audience, valid 10 minutes.
 * - client_credentials: a client registered with admin scopes gets those it names, or all of them
 *   when it names none; naming one it does not hold is invalid_scope, and a client without admin
 *   scopes gets invalid_target.
 * - a person's authorization (a company admin), at a first-party portal only: only `org:admin`;
 *   the API checks, at every call, that they hold the admin role of the token's organization.
 * Any other resource is invalid_target, as before.
 */
export function adminResourceIndicators(): Features['resourceIndicators'] {
  return {
    enabled: true,
    async getResourceServerInfo(ctx: KoaContextWithOIDC, indicator: string, client) {
      if (indicator !== ADMIN_RESOURCE) throw new errors.InvalidTarget();
      const params = ctx.oidc.params as { grant_type?: string; scope?: string };
      let scope: string = ORG_ADMIN_SCOPE;
      if (ctx.oidc.route === 'token' && params.grant_type === 'client_credentials') {
        const held = adminScopesOf(client);
        if (!held.length) throw new errors.InvalidTarget('this client holds no Admin API scopes');
        const named = (params.scope ?? '').split(' ').filter(Boolean);
        const refused = named.find((name) => !(held as string[]).includes(name));
        if (refused) throw new errors.InvalidScope('requested scope is not allowed', refused);
        // Naming none grants them all: oidc-provider keeps the requested scopes the resource offers.
        if (!named.length) params.scope = held.join(' ');
        scope = held.join(' ');
      } else if ((client as unknown as Record<string, unknown>)['first_party'] !== true) {
        // The consent page does not describe Admin API power: only the operator's own portals may ask for it.
        throw new errors.InvalidTarget('only first-party portals may ask for Admin API tokens for a person');
      }
      return {
        scope,
        audience: ADMIN_RESOURCE,
        accessTokenTTL: ADMIN_TOKEN_TTL_SECONDS,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: ADMIN_TOKEN_ALG } },
      };
    },
  };
}

/** An access token for the Admin API (rather than for userinfo or no resource). */
export function isAdminApiToken(token: { resourceServer?: { identifier(): string } | undefined }): boolean {
  return token.resourceServer?.identifier() === ADMIN_RESOURCE;
}

/**
 * The claims a person's Admin API token adds: `org_id`, the organization its authorization is for
 * (`organization=<id>`), while that organization counts; none otherwise, and the API then refuses
 * the token. A client's own token (client_credentials) adds none.
 */
export async function adminTokenClaims(
  tokens: Pick<OrganizationTokens, 'standing'>,
  token: AccessToken | ClientCredentials,
): Promise<Record<string, unknown> | undefined> {
  if (token.kind !== 'AccessToken') return undefined;
  const standing = await tokens.standing(token.grantId, token.accountId);
  return standing.kind === 'valid' ? { org_id: standing.claims.org_id } : undefined;
}
