import { isTenantId, MICROSOFT_CONSUMERS_TENANT_ID, type MicrosoftSettings } from './federation-settings.ts';

/**
 * Which issuers a Microsoft endpoint may publish and which `iss` an ID token must carry.
 *
 * A tenant's own endpoint publishes `{authority}/{tid}/v2.0`. The multi-tenant endpoints
 * (common, organizations) publish the template `{authority}/{tenantid}/v2.0`: the real issuer is
 * the template with the token's `tid` put in, and it must match the token's `iss` exactly. The
 * consumers endpoint publishes the fixed issuer of Microsoft's personal-accounts tenant.
 * openid-client resolves the template only for login.microsoftonline.com, so Umbral does it
 * itself, the same way for every authority (sovereign clouds, and the local providers of the tests).
 */
export class MicrosoftIssuer {
  readonly template: string;

  constructor(private readonly settings: MicrosoftSettings) {
    this.template = `${settings.authority}/{tenantid}/v2.0`;
  }

  /** The full discovery URL: passing it whole keeps openid-client from comparing the issuer itself. */
  discoveryUrl(): URL {
    return new URL(`${this.settings.authority}/${this.settings.tenant}/v2.0/.well-known/openid-configuration`);
  }

  issuerOf(tid: string): string {
    return `${this.settings.authority}/${tid}/v2.0`;
  }

  /** Whether the discovered `issuer` is one this endpoint may publish. */
  acceptsDiscovered(issuer: string): boolean {
    const tenant = this.settings.tenant;
    if (tenant === 'common' || tenant === 'organizations') return issuer === this.template;
    if (tenant === 'consumers') return issuer === this.issuerOf(MICROSOFT_CONSUMERS_TENANT_ID);
    return issuer === this.issuerOf(tenant);
  }

  /**
   * The issuer a token of tenant `tid` must carry, or undefined when the configured endpoint does
   * not admit that tenant (organizations admits no personal accounts, consumers only them).
   */
  expectedIssuer(tid: unknown): string | undefined {
    if (typeof tid !== 'string' || !isTenantId(tid)) return undefined;
    const tenant = this.settings.tenant;
    if (tenant === 'organizations' && tid === MICROSOFT_CONSUMERS_TENANT_ID) return undefined;
    if (tenant === 'consumers' && tid !== MICROSOFT_CONSUMERS_TENANT_ID) return undefined;
    if (isTenantId(tenant) && tid !== tenant) return undefined;
    return this.issuerOf(tid);
  }

  /** The tenant an issuer of the form `{authority}/{tid}/v2.0` names. */
  tenantOfIssuer(issuer: string): string | undefined {
    const prefix = `${this.settings.authority}/`;
    if (!issuer.startsWith(prefix) || !issuer.endsWith('/v2.0')) return undefined;
    const tid = issuer.slice(prefix.length, -'/v2.0'.length);
    return isTenantId(tid) ? tid : undefined;
  }
}

/** The `tid` of an ID token, read before validation only to pick the issuer it is then validated against. */
export function unverifiedTenant(idToken: unknown): string | undefined {
  if (typeof idToken !== 'string') return undefined;
  const payload = idToken.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return typeof claims['tid'] === 'string' ? claims['tid'] : undefined;
  } catch {
    return undefined;
  }
}
