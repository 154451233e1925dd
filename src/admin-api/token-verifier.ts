import { createLocalJWKSet, type JWK, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { type AdminCaller, adminScopesIn } from './admin-caller.ts';
import { ADMIN_RESOURCE, ORG_ADMIN_SCOPE } from './admin-scopes.ts';

/** The published signing keys (public parts), as the provider's JWKS endpoint shows them. */
export type PublishedKeys = () => Promise<JWK[]>;

/** Why a token is refused: RFC 6750's error codes, for WWW-Authenticate. */
export class TokenRefused extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_token',
    readonly description: string,
  ) {
    super(description);
    this.name = 'TokenRefused';
  }
}

/** Published keys are read again at most this often on an unknown kid (a rotation elsewhere). */
const RELOAD_ON_MISS_MS = 10_000;
/** And every this often anyway: a retired key's removal is noticed within it. */
const RELOAD_EVERY_MS = 60_000;

/**
 * Verifies Admin API access tokens locally: JWT access tokens (RFC 9068, `typ: at+jwt`) signed by
 * Umbral with one of its published keys, issued by ISSUER for the audience `urn:umbral:admin`,
 * unexpired by the injected clock. No round trip to the token endpoint or introspection.
 */
export class AdminTokenVerifier {
  private keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  private loadedAt = 0;

  constructor(
    private readonly options: { issuer: string; algorithms: string[]; keys: PublishedKeys; now: () => number },
  ) {}

  async verify(token: string): Promise<{ payload: JWTPayload; caller: AdminCaller }> {
    const payload = await this.verifiedPayload(token);
    const scope = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    const clientId = typeof payload['client_id'] === 'string' ? payload['client_id'] : undefined;
    if (!clientId || !payload.sub) throw new TokenRefused('invalid_token', 'the token has no client_id or sub');
    if (scope.includes(ORG_ADMIN_SCOPE)) {
      const organizationId = payload['org_id'];
      if (typeof organizationId !== 'string') {
        throw new TokenRefused('invalid_token', 'the token is for no organization (authorize with organization=<id>)');
      }
      return { payload, caller: { kind: 'company_admin', userId: payload.sub, clientId, organizationId } };
    }
    // A client's own token names the client as its subject (oidc-provider's client_credentials).
    if (payload.sub !== clientId) throw new TokenRefused('invalid_token', 'the token is not a client token');
    return { payload, caller: { kind: 'client', clientId, scopes: adminScopesIn(payload['scope']) } };
  }

  private async verifiedPayload(token: string): Promise<JWTPayload> {
    const options = {
      issuer: this.options.issuer,
      audience: ADMIN_RESOURCE,
      typ: 'at+jwt',
      algorithms: this.options.algorithms,
      currentDate: new Date(this.options.now()),
      requiredClaims: ['exp', 'iat', 'jti'],
    };
    try {
      return (await jwtVerify(token, await this.keys(false), options)).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey && this.options.now() - this.loadedAt > RELOAD_ON_MISS_MS) {
        try {
          return (await jwtVerify(token, await this.keys(true), options)).payload;
        } catch (again) {
          throw refusal(again);
        }
      }
      throw refusal(error);
    }
  }

  private async keys(reload: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    const now = this.options.now();
    if (!this.keySet || reload || now - this.loadedAt > RELOAD_EVERY_MS) {
      this.keySet = createLocalJWKSet({ keys: await this.options.keys() });
      this.loadedAt = now;
    }
    return this.keySet;
  }
}

function refusal(error: unknown): TokenRefused {
  if (error instanceof joseErrors.JWTExpired) return new TokenRefused('invalid_token', 'the token has expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new TokenRefused('invalid_token', `the token's ${error.claim} claim is not accepted`);
  }
  if (error instanceof joseErrors.JOSEError) return new TokenRefused('invalid_token', 'the token is not valid');
  throw error;
}
