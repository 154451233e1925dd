import type { Generated } from 'kysely';
import type { Json } from './column-types.ts';

// oidc-provider's models, the registered clients and the signing and cookie keys.

/** One row per oidc-provider model instance (sessions, grants, codes, tokens, interactions…). */
export interface OidcModelTable {
  model: string;
  id: string;
  payload: Json;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  /** Whose session, grant or token it is (revoking everything of one user). */
  account_id: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
  /** A rotated refresh token's sealed token response, kept for the reuse grace only. */
  rotation_response: string | null;
}

/** Relying parties registered by operators; `metadata` is oidc-provider client metadata. */
export interface ClientTable {
  client_id: string;
  metadata: Json;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  private_jwk: Json;
  created_at: Generated<Date>;
  /** Set when a newer key of the same alg takes over signing. */
  retired_at: Date | null;
  /** After this the key is no longer published: every token it signed has expired. */
  unpublish_at: Date | null;
}

export interface CookieKeyTable {
  id: string;
  secret: string;
  created_at: Generated<Date>;
}
