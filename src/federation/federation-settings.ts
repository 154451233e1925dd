/**
 * Federation settings (GOOGLE_*, MICROSOFT_*, FEDERATION_*), read by src/config/config.ts.
 * Pure functions with no import of the config module, so the two do not depend on each other.
 */

export const PROVIDERS = ['google', 'microsoft'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export function isProviderName(value: unknown): value is ProviderName {
  return typeof value === 'string' && (PROVIDERS as readonly string[]).includes(value);
}

/** Microsoft's personal-accounts tenant: its ID tokens carry this `tid`. */
export const MICROSOFT_CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
export const MICROSOFT_MULTI_TENANTS = ['common', 'organizations', 'consumers'] as const;
export type MicrosoftTenant = (typeof MICROSOFT_MULTI_TENANTS)[number] | string;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isTenantId(value: string): boolean {
  return GUID.test(value);
}

export interface GoogleSettings {
  clientId: string;
  clientSecret: string;
  /** Discovered at `${issuer}/.well-known/openid-configuration`; ID tokens must carry exactly this `iss`. */
  issuer: string;
  /** Google Workspace domains (`hd`) allowed to sign in; empty: any Google account. */
  allowedDomains: string[];
}

export interface MicrosoftSettings {
  clientId: string;
  clientSecret: string;
  /** common, organizations, consumers or a tenant id (GUID). */
  tenant: MicrosoftTenant;
  /** https://login.microsoftonline.com, or a sovereign cloud's authority; no trailing slash. */
  authority: string;
  /** Tenant ids (`tid`) allowed to sign in; empty: any tenant the `tenant` endpoint admits. */
  allowedTenants: string[];
  /**
   * Microsoft's `email` claim is whatever the tenant's admin (or the user) typed: it is treated
   * as unverified, and a sign-up must confirm it by email, unless this is on and the token says
   * Microsoft verified the email's domain owner (`xms_edov`, an optional claim of the app registration).
   */
  trustEmail: boolean;
}

export interface FederationSettings {
  google: GoogleSettings | undefined;
  microsoft: MicrosoftSettings | undefined;
  /** Link an upstream identity to the local account with the same verified email without asking for the password. */
  autoLink: boolean;
  /** An upstream's `amr` containing `mfa` satisfies a client's second-factor requirement. */
  trustUpstreamMfa: boolean;
}

export type SettingsProblem = { variable: string; message: string };

type Env = Record<string, string | undefined>;

/** Both halves of a client registration, or neither. */
function credentials(
  env: Env,
  prefix: string,
): { clientId: string; clientSecret: string } | undefined | SettingsProblem {
  const clientId = env[`${prefix}_CLIENT_ID`];
  const clientSecret = env[`${prefix}_CLIENT_SECRET`];
  if (!clientId && !clientSecret) return undefined;
  if (!clientId) return { variable: `${prefix}_CLIENT_ID`, message: `must be set when ${prefix}_CLIENT_SECRET is` };
  if (!clientSecret) return { variable: `${prefix}_CLIENT_SECRET`, message: `must be set when ${prefix}_CLIENT_ID is` };
  return { clientId, clientSecret };
}

function isProblem(value: unknown): value is SettingsProblem {
  return typeof value === 'object' && value !== null && 'variable' in value;
}

/** https, or http on a loopback host (the local providers tests run against). */
function upstreamUrl(env: Env, variable: string, fallback: string): string | SettingsProblem {
  const raw = env[variable] ?? fallback;
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    return { variable, message: 'must be an https:// URL' };
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    return { variable, message: 'must be https:// unless the host is a loopback address' };
  if (url.search || url.hash) return { variable, message: 'must not carry a query or fragment' };
  return raw.replace(/\/+$/, '');
}

export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname.endsWith('.localhost') || hostname.startsWith('127.') || hostname === '[::1]'
  );
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\s]+/)
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
}

const DOMAIN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;

export function isDomainName(value: string): boolean {
  return DOMAIN.test(value);
}

/** Reads the federation variables; `flag` is config.ts's true/false parser. */
export function readFederationSettings(
  env: Env,
  flag: (variable: string) => boolean,
): FederationSettings | SettingsProblem {
  let google: GoogleSettings | undefined;
  const googleCredentials = credentials(env, 'GOOGLE');
  if (isProblem(googleCredentials)) return googleCredentials;
  if (googleCredentials) {
    const issuer = upstreamUrl(env, 'GOOGLE_ISSUER', 'https://accounts.google.com');
    if (isProblem(issuer)) return issuer;
    const allowedDomains = list(env['GOOGLE_ALLOWED_DOMAINS']);
    const badDomain = allowedDomains.find((d) => !isDomainName(d));
    if (badDomain) return { variable: 'GOOGLE_ALLOWED_DOMAINS', message: `"${badDomain}" is not a domain name` };
    google = { ...googleCredentials, issuer, allowedDomains };
  }

  let microsoft: MicrosoftSettings | undefined;
  const microsoftCredentials = credentials(env, 'MICROSOFT');
  if (isProblem(microsoftCredentials)) return microsoftCredentials;
  if (microsoftCredentials) {
    const authority = upstreamUrl(env, 'MICROSOFT_AUTHORITY', 'https://login.microsoftonline.com');
    if (isProblem(authority)) return authority;
    const tenant = (env['MICROSOFT_TENANT'] ?? 'common').toLowerCase();
    if (!(MICROSOFT_MULTI_TENANTS as readonly string[]).includes(tenant) && !isTenantId(tenant)) {
      return {
        variable: 'MICROSOFT_TENANT',
        message: 'must be common, organizations, consumers or a tenant id (a GUID)',
      };
    }
    const allowedTenants = list(env['MICROSOFT_ALLOWED_TENANTS']);
    const badTenant = allowedTenants.find((t) => !isTenantId(t));
    if (badTenant)
      return { variable: 'MICROSOFT_ALLOWED_TENANTS', message: `"${badTenant}" is not a tenant id (a GUID)` };
    microsoft = {
      ...microsoftCredentials,
      authority,
      tenant,
      allowedTenants,
      trustEmail: flag('MICROSOFT_TRUST_EMAIL'),
    };
  }

  return {
    google,
    microsoft,
    autoLink: flag('FEDERATION_AUTO_LINK'),
    trustUpstreamMfa: flag('FEDERATION_TRUST_UPSTREAM_MFA'),
  };
}
