import { type AdminScope, AdminScopesError, parseAdminScopes } from '../admin-api/admin-scopes.ts';
import { GRANT_TYPES, type GrantType } from '../clients/client-registration.ts';
import { isOrganizationMode, ORGANIZATION_MODES, type OrganizationMode } from '../organizations/client-organization.ts';
import { PKCE_MODES, type PkceMode } from '../provider/client-metadata.ts';
import { isSigningAlg, SIGNING_ALGS, type SigningAlg } from '../provider/signing-keys.ts';
import { CliInputError } from './cli-errors.ts';

/** The options `clients add` and `clients update` share: the portal's settings. */
export const CLIENT_SETTING_OPTIONS = {
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'backchannel-logout-uri': { type: 'string' },
  'grant-types': { type: 'string' },
  'first-party': { type: 'boolean' },
  'single-session': { type: 'boolean' },
  'require-mfa': { type: 'boolean' },
  name: { type: 'string' },
  'jwks-uri': { type: 'string' },
  'jwks-file': { type: 'string' },
  'id-token-signing-alg': { type: 'string' },
  'strict-id-token-claims': { type: 'boolean' },
  pkce: { type: 'string' },
  organization: { type: 'string' },
  'collect-company': { type: 'boolean' },
  'initiate-login-uri': { type: 'string' },
  'logo-uri': { type: 'string' },
  'client-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'brand-color': { type: 'string' },
  'admin-scopes': { type: 'string' },
} as const;

export function parseGrantTypes(value: string): GrantType[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new CliInputError('--grant-types needs at least one grant type');
  for (const name of names) {
    if (!(GRANT_TYPES as readonly string[]).includes(name)) {
      throw new CliInputError(`unknown grant type "${name}"; use ${GRANT_TYPES.join(', ')}`);
    }
  }
  return [...new Set(names)] as GrantType[];
}

export function parseSigningAlg(value: string | undefined): SigningAlg | undefined {
  if (value === undefined || isSigningAlg(value)) return value;
  throw new CliInputError(`--id-token-signing-alg "${value}" is not offered; use ${SIGNING_ALGS.join(', ')}`);
}

export function parsePkceMode(value: string | undefined): PkceMode | undefined {
  if (value === undefined || (PKCE_MODES as readonly string[]).includes(value)) return value as PkceMode | undefined;
  throw new CliInputError(`--pkce "${value}" is not a PKCE policy; use ${PKCE_MODES.join(' or ')}`);
}

export function parseOrganizationMode(value: string | undefined): OrganizationMode | undefined {
  if (value === undefined || isOrganizationMode(value)) return value;
  throw new CliInputError(
    `--organization "${value}" is not an organization setting; use ${ORGANIZATION_MODES.join(' or ')} (or leave it out)`,
  );
}

/** `--admin-scopes clients:write,audit:read`: the Admin API scopes the client may take. */
export function parseAdminScopesOption(value: string | undefined): AdminScope[] | undefined {
  if (value === undefined) return undefined;
  try {
    return parseAdminScopes(value);
  } catch (error) {
    if (error instanceof AdminScopesError) throw new CliInputError(`--admin-scopes: ${error.message}`);
    throw error;
  }
}

/** Full syntax only; oidc-provider's client validation judges the rest (scheme, fragments…). */
export function absoluteUrl(option: string, value: string): string {
  if (!URL.canParse(value)) throw new CliInputError(`${option} "${value}" is not an absolute URL`);
  return value;
}

export function optionalUrl(option: string, value: string | undefined): string | undefined {
  return value === undefined ? undefined : absoluteUrl(option, value);
}
