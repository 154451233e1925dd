import type { Generated } from 'kysely';
import type { Json, Timestamp } from './column-types.ts';

// Sign-in through Google and Microsoft: linked identities, sign-ins in progress, domain routes.

/** An upstream account that signs in as a local user (src/federation/federated-identities.ts). */
export interface FederatedIdentityTable {
  id: string;
  user_id: string;
  provider: string;
  /** Google: the issuer; Microsoft: the tenant id (tid). */
  realm: string;
  /** Google: sub; Microsoft: the object id (oid). */
  subject: string;
  email: string | null;
  email_verified: Generated<boolean>;
  name: string | null;
  last_amr: Json<string[]> | null;
  last_acr: string | null;
  created_at: Generated<Date>;
  last_login_at: Date | null;
}

/** An upstream sign-in in progress (src/federation/federation-logins.ts). */
export interface FederationLoginTable {
  id: string;
  state_hash: string;
  binding_hash: string;
  provider: string;
  interaction_uid: string;
  nonce: string;
  code_verifier: string;
  /** started → exchanging (the callback claimed it) → authenticated → done */
  status: Generated<string>;
  upstream: Json | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

/** Home-realm discovery: an email domain and the provider its people sign in with. */
export interface DomainRouteTable {
  domain: string;
  provider: string;
  created_at: Generated<Date>;
}
