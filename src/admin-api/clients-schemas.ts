import { GRANT_TYPES } from '../clients/client-registration.ts';
import { ORGANIZATION_MODES } from '../organizations/client-organization.ts';
import { PKCE_MODES } from '../provider/client-metadata.ts';
import { SIGNING_ALGS } from '../provider/signing-keys.ts';
import { ADMIN_SCOPES } from './admin-scopes.ts';
import { z } from './zod.ts';

/** The portal's fields, as oidc-provider's metadata names them; the same rules as `umbral clients add`. */
const url = z.url({ protocol: /^https?$/ }).max(2048);
const optionalFields = {
  client_name: z.string().trim().min(1).max(200),
  backchannel_logout_uri: url,
  single_session: z.boolean(),
  require_mfa: z.boolean(),
  jwks_uri: url,
  jwks: z.object({
    keys: z
      .array(z.looseObject({ kty: z.string() }))
      .min(1)
      .max(20),
  }),
  id_token_signed_response_alg: z.enum(SIGNING_ALGS),
  strict_id_token_claims: z.boolean(),
  pkce: z.enum(PKCE_MODES),
  organization: z.enum(ORGANIZATION_MODES),
  collect_company: z
    .boolean()
    .openapi({ description: 'A person without a company creates one at sign-in; implies organization required.' }),
  initiate_login_uri: url,
  logo_uri: url,
  client_uri: url,
  tos_uri: url,
  policy_uri: url,
  brand_color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'brand_color must be a colour written #RRGGBB')
    .openapi({ example: '#0b5cad' }),
  admin_scopes: z.array(z.enum(ADMIN_SCOPES)).min(1),
};
const listFields = {
  redirect_uris: z.array(url).max(50),
  post_logout_redirect_uris: z.array(url).max(50),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1),
};

export const ClientCreateSchema = z
  .strictObject({
    client_id: z
      .string()
      .regex(/^[A-Za-z0-9._~-]{1,128}$/, 'client_id must be 1 to 128 letters, digits or . _ ~ -')
      .openapi({ example: 'crm' }),
    client_secret: z.string().min(32).max(512).optional().openapi({ description: 'Omit it to have one generated.' }),
    public: z.boolean().default(false),
    first_party: z.boolean().default(false),
    redirect_uris: listFields.redirect_uris.default([]),
    post_logout_redirect_uris: listFields.post_logout_redirect_uris.default([]),
    grant_types: listFields.grant_types.optional().openapi({
      description: 'authorization_code and refresh_token when not given; client_credentials only with admin_scopes.',
    }),
    ...Object.fromEntries(Object.entries(optionalFields).map(([key, schema]) => [key, schema.optional()])),
  })
  .openapi('ClientCreate') as z.ZodType<ClientCreate>;

export type ClientCreate = {
  client_id: string;
  client_secret?: string | undefined;
  public: boolean;
  first_party: boolean;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types?: Array<(typeof GRANT_TYPES)[number]> | undefined;
} & { [K in keyof typeof optionalFields]?: z.infer<(typeof optionalFields)[K]> | undefined };

/** A change: the fields given replace the stored ones; null removes an optional one. */
export const ClientUpdateSchema = z
  .strictObject({
    first_party: z.boolean().optional(),
    ...Object.fromEntries(Object.entries(listFields).map(([key, schema]) => [key, schema.optional()])),
    ...Object.fromEntries(Object.entries(optionalFields).map(([key, schema]) => [key, schema.nullable().optional()])),
  })
  .refine((value) => Object.keys(value).length > 0, { message: 'give at least one field to change' })
  .openapi('ClientUpdate') as z.ZodType<ClientUpdate>;

export type ClientUpdate = { first_party?: boolean | undefined } & {
  [K in keyof typeof listFields]?: z.infer<(typeof listFields)[K]> | undefined;
} & { [K in keyof typeof optionalFields]?: z.infer<(typeof optionalFields)[K]> | null | undefined };

export const SecretListingSchema = z
  .object({
    status: z.enum(['current', 'previous']),
    created_at: z.string().nullable().openapi({ description: 'Null for a secret made before rotation existed.' }),
    expires_at: z.string().nullable().openapi({ description: 'Null for the current secret.' }),
  })
  .openapi('ClientSecretListing');

export const ClientSchema = z
  .looseObject({
    client_id: z.string(),
    client_name: z.string().optional(),
    token_endpoint_auth_method: z.string(),
    grant_types: z.array(z.string()),
    redirect_uris: z.array(z.string()),
    admin_scopes: z.array(z.string()).optional(),
    secrets: z.array(SecretListingSchema).openapi({ description: 'Dates only: a secret is shown once, when made.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Client', { description: "The portal's metadata (as oidc-provider names it), without secrets." });

export const ClientWithSecretSchema = z
  .object({
    client: ClientSchema,
    client_secret: z.string().optional().openapi({ description: 'Shown this once: only its hash is kept.' }),
  })
  .openapi('ClientWithSecret');

export const SecretRotationSchema = z
  .strictObject({
    keep_old_for_seconds: z
      .number()
      .int()
      .min(0)
      .max(90 * 86_400)
      .default(7 * 86_400)
      .openapi({ description: 'How long the current secret keeps working; 7 days by default, 0 stops it now.' }),
  })
  .openapi('SecretRotation');

export const ClientIdParams = z.object({ client_id: z.string().min(1).max(128) });
