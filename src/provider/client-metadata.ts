import { type Configuration, errors } from 'oidc-provider';
import { ADMIN_SCOPES, isAdminScope } from '../admin-api/admin-scopes.ts';
import { brandColorProblem } from '../clients/brand-color.ts';
import { isPreviousSecretList } from '../clients/client-secret-rotation.ts';
import { isOrganizationMode, ORGANIZATION_MODES } from '../organizations/client-organization.ts';
import { checkSelfRegisteredClient } from './dynamic-registration.ts';

/** How a portal's authorization requests are held to PKCE (src/provider/pkce-policy.ts). */
export const PKCE_MODES = ['required', 'optional'] as const;
export type PkceMode = (typeof PKCE_MODES)[number];

const BOOLEAN_PROPERTIES = [
  'first_party',
  'single_session',
  'require_mfa',
  'strict_id_token_claims',
  'collect_company',
];

/**
 * Umbral's own client metadata, checked by oidc-provider whenever a client is validated or loaded:
 * - first_party: the operator's own portal (no consent page).
 * - single_session: a sign-in there ends the user's other sessions.
 * - require_mfa: every sign-in there needs a second factor.
 * - strict_id_token_claims: ID tokens carry only what OIDC Core's strict reading allows
 *   (src/provider/id-token-claims.ts).
 * - pkce: 'optional' lets a confidential client omit PKCE when it sends a nonce.
 * - organization: 'required' or 'optional', how its sign-ins choose an organization
 *   (src/organizations/client-organization.ts).
 * - collect_company: a person without an organization gives their company's data during the
 *   sign-in, which creates it with them as its admin (src/organizations/company-step.ts).
 * - brand_color: #RRGGBB, the portal's primary colour on its hosted pages (src/http/page-branding.ts),
 *   dark enough for white text (src/clients/brand-color.ts).
 * - admin_scopes: the Admin API scopes the client may take with client_credentials
 *   (src/provider/admin-resource.ts).
 * - secret_created_at, previous_secrets: when the current secret was made, and the hashes of
 *   rotated secrets still accepted until their expiry (src/clients/client-secret-rotation.ts).
 */
export const extraClientMetadata: NonNullable<Configuration['extraClientMetadata']> = {
  properties: [
    ...BOOLEAN_PROPERTIES,
    'pkce',
    'organization',
    'brand_color',
    'admin_scopes',
    'secret_created_at',
    'previous_secrets',
  ],
  // oidc-provider's own error, so a dynamic registration gets invalid_client_metadata, not a 500.
  validator(ctx, key, value, metadata) {
    // Once per validation: a self-registered client meets the extra rules of dynamic registration.
    if (key === 'first_party') checkSelfRegisteredClient(ctx, metadata as unknown as Record<string, unknown>);
    if (value === undefined) return;
    if (BOOLEAN_PROPERTIES.includes(key) && typeof value !== 'boolean') {
      throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
    }
    if (key === 'pkce') {
      if (!(PKCE_MODES as readonly unknown[]).includes(value)) {
        throw new errors.InvalidClientMetadata(`pkce must be ${PKCE_MODES.join(' or ')}`);
      }
      // A public client has no secret: PKCE is the only thing that binds its code to it.
      if (value === 'optional' && metadata.token_endpoint_auth_method === 'none') {
        throw new errors.InvalidClientMetadata('pkce optional needs a confidential client');
      }
    }
    if (key === 'brand_color') {
      const problem = brandColorProblem(value);
      if (problem) throw new errors.InvalidClientMetadata(problem);
    }
    if (key === 'admin_scopes' && (!Array.isArray(value) || !value.every(isAdminScope))) {
      throw new errors.InvalidClientMetadata(`admin_scopes must be a list of ${ADMIN_SCOPES.join(', ')}`);
    }
    if (key === 'secret_created_at' && typeof value !== 'number') {
      throw new errors.InvalidClientMetadata('secret_created_at must be seconds since the epoch');
    }
    if (key === 'previous_secrets' && !isPreviousSecretList(value)) {
      throw new errors.InvalidClientMetadata('previous_secrets must be a list of hashed secrets with their dates');
    }
    if (key === 'organization' && !isOrganizationMode(value)) {
      throw new errors.InvalidClientMetadata(`organization must be ${ORGANIZATION_MODES.join(' or ')}`);
    }
  },
};
