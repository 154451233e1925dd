/**
 * The Admin API's audience and its scopes: narrow, one per kind of object and direction, so an
 * automation client holds only what it needs (rather than one all-or-nothing admin scope).
 * A leaf module: src/provider (token issuance) and src/clients (registration) read it too.
 */

/** The resource indicator (RFC 8707) of the Admin API, and the audience of its tokens. */
export const ADMIN_RESOURCE = 'urn:umbral:admin';

/** Admin API access tokens live 10 minutes: a leaked one is worth little, and a new one costs one request. */
export const ADMIN_TOKEN_TTL_SECONDS = 10 * 60;

export const ADMIN_SCOPES = [
  'clients:read',
  'clients:write',
  'users:read',
  'users:write',
  'orgs:read',
  'orgs:write',
  'roles:write',
  'keys:write',
  'audit:read',
  'webhooks:write',
] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

/**
 * A company admin's own scope: asked by a person (authorization code, with `organization=<id>`),
 * it lets their token call the organization endpoints of that organization only, while they hold
 * its admin role.
 */
export const ORG_ADMIN_SCOPE = 'org:admin';

export function isAdminScope(value: unknown): value is AdminScope {
  return (ADMIN_SCOPES as readonly unknown[]).includes(value);
}

export class AdminScopesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminScopesError';
  }
}

/** `clients:write,audit:read` (commas or spaces) → the scopes, deduplicated in ADMIN_SCOPES order. */
export function parseAdminScopes(value: string): AdminScope[] {
  const names = value.split(/[\s,]+/).filter(Boolean);
  if (!names.length) throw new AdminScopesError('admin scopes: give at least one');
  const unknown = names.filter((name) => !isAdminScope(name));
  if (unknown.length) {
    throw new AdminScopesError(`unknown admin scope "${unknown[0]}"; use ${ADMIN_SCOPES.join(', ')}`);
  }
  return ADMIN_SCOPES.filter((scope) => names.includes(scope));
}
