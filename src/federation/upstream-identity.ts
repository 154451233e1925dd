import { isValidEmail, normalizeEmail } from '../users/email.ts';
import {
  type FederationSettings,
  isDomainName,
  isTenantId,
  MICROSOFT_CONSUMERS_TENANT_ID,
  type ProviderName,
} from './federation-settings.ts';

/** Who the upstream says signed in, after every check, in the terms Umbral keys and links on. */
export interface UpstreamIdentity {
  provider: ProviderName;
  /** The ID token's `iss`, as checked. */
  issuer: string;
  /** Google: the issuer; Microsoft: the tenant id (`tid`). */
  realm: string;
  /** Google: `sub`; Microsoft: the object id (`oid`), stable across the tenant's apps. */
  subject: string;
  email: string | undefined;
  /** Whether Umbral may treat the email as proven (see federation-settings.ts for Microsoft). */
  emailVerified: boolean;
  name: string | undefined;
  /** How the person authenticated upstream (RFC 8176 values as the upstream asserted them). */
  amr: string[];
  acr: string | undefined;
  /**
   * The upstream's own tenant, from the verified ID token, never from the email: Microsoft's `tid`
   * (absent for personal accounts), Google's Workspace domain `hd` (absent for consumer accounts).
   * What an organization binds to have members join (src/organizations/upstream-joining.ts).
   * Optional: an upstream sign-in kept from before it was read has none.
   */
  tenant?: string | undefined;
}

/** Why an upstream sign-in cannot be used; each has its own message on the error page. */
export type RefusalReason =
  | 'denied'
  | 'unavailable'
  | 'failed'
  | 'wrong_tenant'
  | 'tenant_not_allowed'
  | 'domain_not_allowed'
  | 'email_missing'
  | 'expired';

export class UpstreamRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    detail: string,
  ) {
    super(detail);
    this.name = 'UpstreamRefusal';
  }
}

type Claims = Record<string, unknown>;

const text = (value: unknown, max = 200): string | undefined =>
  typeof value === 'string' && value.trim() ? value.trim().replace(/\s+/g, ' ').slice(0, max) : undefined;

function amrOf(claims: Claims): string[] {
  const amr = Array.isArray(claims['amr']) ? claims['amr'] : [];
  return amr.filter((v): v is string => typeof v === 'string' && /^[\w-]{1,32}$/.test(v)).slice(0, 10);
}

function emailOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = normalizeEmail(value);
  return isValidEmail(email) ? email : undefined;
}

/** Google's `hd`, lower-cased, when it is a domain name; anything else counts as none. */
function hostedDomainOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const hd = value.toLowerCase();
  return isDomainName(hd) ? hd : undefined;
}

/** Google: keyed on (issuer, sub); `hd` names the Workspace domain, absent for consumer accounts. */
export function googleIdentity(claims: Claims, settings: NonNullable<FederationSettings['google']>): UpstreamIdentity {
  const subject = text(claims['sub'], 255);
  const issuer = text(claims['iss'], 255);
  if (!subject || !issuer) throw new UpstreamRefusal('failed', 'google ID token without sub or iss');
  const hd = hostedDomainOf(claims['hd']);
  if (settings.allowedDomains.length) {
    if (!hd || !settings.allowedDomains.includes(hd))
      throw new UpstreamRefusal('domain_not_allowed', `google hosted domain ${hd ?? '(none)'} is not allowed`);
  }
  const email = emailOf(claims['email']);
  if (!email) throw new UpstreamRefusal('email_missing', 'google ID token without an email');
  return {
    provider: 'google',
    issuer,
    realm: issuer,
    subject,
    email,
    emailVerified: claims['email_verified'] === true,
    name: text(claims['name']),
    amr: amrOf(claims),
    acr: text(claims['acr'], 100),
    tenant: hd,
  };
}

/**
 * Microsoft: keyed on (tid, oid). The `email` claim is not verified by Microsoft unless the
 * token says the domain's owner verified it (`xms_edov`), and only counts when the operator
 * trusts that (MICROSOFT_TRUST_EMAIL). `preferred_username` is a display hint, never an email we trust.
 */
export function microsoftIdentity(
  claims: Claims,
  settings: NonNullable<FederationSettings['microsoft']>,
): UpstreamIdentity {
  const tid = typeof claims['tid'] === 'string' ? claims['tid'].toLowerCase() : '';
  const oid = typeof claims['oid'] === 'string' ? claims['oid'].toLowerCase() : '';
  const issuer = text(claims['iss'], 255);
  if (!isTenantId(tid) || !isTenantId(oid) || !issuer)
    throw new UpstreamRefusal('failed', 'microsoft ID token without a valid tid, oid or iss');
  if (settings.allowedTenants.length && !settings.allowedTenants.includes(tid)) {
    throw new UpstreamRefusal('tenant_not_allowed', `microsoft tenant ${tid} is not allowed`);
  }
  const email = emailOf(claims['email']) ?? emailOf(claims['preferred_username']);
  if (!email) throw new UpstreamRefusal('email_missing', 'microsoft ID token without an email');
  const domainOwnerVerified =
    claims['xms_edov'] === true || claims['xms_edov'] === 'true' || claims['xms_edov'] === '1';
  return {
    provider: 'microsoft',
    issuer,
    realm: tid,
    subject: oid,
    email,
    emailVerified: settings.trustEmail && emailOf(claims['email']) === email && domainOwnerVerified,
    name: text(claims['name']),
    amr: amrOf(claims),
    acr: text(claims['acr'], 100),
    // Personal accounts all share one tenant: it is nobody's organization.
    tenant: tid === MICROSOFT_CONSUMERS_TENANT_ID ? undefined : tid,
  };
}
