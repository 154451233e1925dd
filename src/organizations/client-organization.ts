/**
 * What a portal asks of the organizations its people sign in for: `umbral clients add
 * --organization required|optional`, kept as the client metadata property `organization`.
 * - required: every sign-in there is for one active organization the person belongs to;
 *   without one the sign-in cannot finish.
 * - optional: the organization's claims when the person has one; a sign-in without one goes on.
 * A portal without the setting that asks for the `organization` scope, or names an organization
 * (`organization=`), is treated as optional: a named organization is always checked.
 */
export const ORGANIZATION_MODES = ['required', 'optional'] as const;
export type OrganizationMode = (typeof ORGANIZATION_MODES)[number];

/** The scope whose claims say which organization a token is for. */
export const ORGANIZATION_SCOPE = 'organization';

/** The claims of the `organization` scope, in the ID token (unless the portal is strict), userinfo and introspection. */
export const ORGANIZATION_CLAIMS = [
  'org_id',
  'org_slug',
  'org_name',
  'org_roles',
  'org_permissions',
  'org_country',
  'org_tax_id',
];

/** The authorization parameter a portal names the organization with: its id or its slug. */
export const ORGANIZATION_PARAM = 'organization';

export function isOrganizationMode(value: unknown): value is OrganizationMode {
  return (ORGANIZATION_MODES as readonly unknown[]).includes(value);
}

/** Whether the portal collects the company of a person without one (`clients add --collect-company`). */
export function collectsCompany(client: { [key: string]: unknown } | undefined): boolean {
  return client?.['collect_company'] === true;
}

/** The client's own setting, if any. */
export function clientOrganizationMode(client: { [key: string]: unknown } | undefined): OrganizationMode | undefined {
  const value = client?.['organization'];
  return isOrganizationMode(value) ? value : undefined;
}

/**
 * How this authorization request deals with organizations: the client's setting, or optional
 * when it asks the scope or names an organization (which is then checked like any other).
 */
export function requestMode(
  client: { [key: string]: unknown } | undefined,
  params: { scope?: unknown; [ORGANIZATION_PARAM]?: unknown },
): OrganizationMode | undefined {
  const own = clientOrganizationMode(client);
  if (own) return own;
  const scopes = typeof params.scope === 'string' ? params.scope.split(' ') : [];
  const named = typeof params[ORGANIZATION_PARAM] === 'string' && params[ORGANIZATION_PARAM] !== '';
  return scopes.includes(ORGANIZATION_SCOPE) || named ? 'optional' : undefined;
}

/** An `organization=` value worth looking up: an id or a slug, nothing longer or stranger. */
export function isOrganizationReference(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(value);
}
