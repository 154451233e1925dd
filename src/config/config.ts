import { isIP, isIPv4 } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { type FederationSettings, readFederationSettings } from '../federation/federation-settings.ts';
import { type NodeSettings, readNodeSettings } from './node-settings.ts';

export interface SupportContact {
  url: string | undefined;
  email: string | undefined;
}

/** Umbral's whole configuration, read once from the environment. */
export interface Config {
  port: number;
  issuer: string;
  /** True when ISSUER is https: secure, prefixed cookies and HSTS. */
  secure: boolean;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Prepended to every Redis key, so several deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  /** Which peers may say, in X-Forwarded-*, who the client is and how it reached us (src/http/client-address.ts). */
  trustProxy: TrustProxy;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  productName: string;
  logoUrl: string | undefined;
  /** How often expired oidc-provider rows are purged, in seconds. */
  purgeIntervalSeconds: number;
  /**
   * Lets outgoing requests (back-channel logout, client JWKS) reach loopback and private
   * addresses, for portals on the same private network. Off: oidc-provider's SSRF guard applies.
   */
  allowPrivateNetworkFetch: boolean;
  /** WEBHOOK_RETRY_BASE_SECONDS: the first webhook retry's delay, which scales the whole schedule (src/webhooks/retry-schedule.ts). */
  webhookRetryBaseSeconds: number;
  /** NODE_ENV=production: no dev outbox, mail must be configured. */
  production: boolean;
  /** smtp:// or smtps:// with credentials; unset (only allowed with a loopback ISSUER) → the dev outbox. */
  smtpUrl: string | undefined;
  /**
   * Serve /dev/outbox: only when ISSUER is a loopback address and no SMTP_URL is set. It lists who
   * has an account and holds their secret links, so nothing reachable from elsewhere may serve it.
   */
  devOutbox: boolean;
  mailFrom: string;
  termsUrl: string;
  privacyUrl: string;
  /** The operator's help for the people on its pages, in every page's footer: a web page, an address, or both. */
  support: SupportContact;
  /** Stored with each user's acceptance, so a new version can be asked for again. */
  termsVersion: string;
  minPasswordLength: number;
  /** The phone at sign-up: asked and required, asked but optional (the default), or not asked. */
  signupPhone: 'required' | 'optional' | 'off';
  /** Sign-ups allowed from one address (a /64 for IPv6) per hour. */
  signupsPerIpPerHour: number;
  /** One active session per user for every portal (a portal may ask for it alone: `--single-session`). */
  singleSession: boolean;
  /** Sign-in with Google and Microsoft (GOOGLE_*, MICROSOFT_*, FEDERATION_*); see src/federation. */
  federation: FederationSettings;
  /**
   * AES-256 key (32 bytes) that encrypts secrets kept at rest (authenticator-app secrets).
   * Unset outside production: a development key is generated once under DATA_DIR (src/crypto/secret-key.ts).
   */
  secretEncryptionKey: Buffer | undefined;
  /** Where SMS codes go: Twilio, the log and dev outbox (development), or nowhere (the SMS factor is not offered). */
  sms: SmsConfig;
  /**
   * Dynamic client registration (RFC 7591/7592) at /reg: off, with an initial access token from
   * `umbral clients registration-token`, or open to anyone (closed networks and testing only).
   */
  clientRegistration: ClientRegistrationMode;
  /** How often each process's contract scheduler looks for due organization events (src/organizations). */
  orgSchedulerIntervalSeconds: number;
  /** Days before an organization's `ends_at` its admins are warned by email. */
  orgEndWarningDays: number;
  /** The segments a company may choose (COMPANY_SEGMENTS): identifiers, in the order offered. */
  companySegments: string[];
  /** Days an audit event is kept (src/audit); older ones go with the purge timer. */
  auditRetentionDays: number;
  /** HOST, WEB_CONCURRENCY, METRICS_TOKEN/PORT, the key reload and the pool (src/config/node-settings.ts). */
  node: NodeSettings;
  /** Days a sign-in event (src/organizations/sign-in-events.ts) is kept for the companies' metrics. */
  signInEventsRetentionDays: number;
}

/** COMPANY_SEGMENTS unless set; views/locales/<locale>/organizations-company.json names each. */
export const DEFAULT_COMPANY_SEGMENTS = [
  'agriculture',
  'construction',
  'education',
  'energy',
  'finance',
  'government',
  'health',
  'hospitality',
  'manufacturing',
  'media',
  'nonprofit',
  'professional-services',
  'real-estate',
  'retail',
  'technology',
  'transport',
  'other',
];

const SEGMENT_FORM =
  'must be a comma-separated list of segments: lower-case letters, digits and inner hyphens (1 to 40 each), at most 50, none twice';

/** COMPANY_SEGMENTS: `retail, technology, other` → ['retail', 'technology', 'other']. */
export function parseCompanySegments(value: string | undefined): string[] {
  if (value === undefined || !value.trim()) return [...DEFAULT_COMPANY_SEGMENTS];
  const segments = value.split(',').map((entry) => entry.trim());
  const wellFormed = segments.every((s) => /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/.test(s));
  if (!wellFormed || segments.length > 50 || new Set(segments).size !== segments.length) {
    throw new ConfigError('COMPANY_SEGMENTS', SEGMENT_FORM);
  }
  return segments;
}

export const CLIENT_REGISTRATION_MODES = ['off', 'token', 'open'] as const;
export type ClientRegistrationMode = (typeof CLIENT_REGISTRATION_MODES)[number];

/**
 * TRUST_PROXY: no proxy; a number of proxies in front (each appends to X-Forwarded-For), so the
 * client is that many entries from the right; or the proxies' own addresses, so the client is the
 * rightmost entry that is not one of them.
 */
export type TrustProxy =
  | { kind: 'none' }
  | { kind: 'hops'; hops: number }
  | { kind: 'addresses'; ranges: ProxyRange[] };

/** One trusted proxy address or network: `10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`. */
export interface ProxyRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export type SmsConfig =
  | { provider: 'twilio'; accountSid: string; authToken: string; from: string; baseUrl: string }
  | { provider: 'log' }
  | { provider: 'none' };

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const schema = z.object({
  PORT: z.coerce
    .number({ error: 'must be a whole number from 1 to 65535' })
    .int('must be a whole number from 1 to 65535')
    .min(1, 'must be a whole number from 1 to 65535')
    .max(65535, 'must be a whole number from 1 to 65535')
    .default(3000),
  ISSUER: httpUrl
    .refine((u) => !new URL(u).search && !new URL(u).hash, 'must not carry a query or fragment')
    .optional(),
  DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, 'must be 1 to 64 letters, digits, or : . _ -')
    .default('umbral:'),
  TRUST_PROXY: z.string().optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  PRODUCT_NAME: z.string().min(1, 'must not be empty').max(60, 'must be at most 60 characters').default('Umbral'),
  LOGO_URL: z.string().min(1).optional(),
  PURGE_INTERVAL_SECONDS: z.coerce.number().int().min(10, 'must be at least 10').default(600),
  ALLOW_PRIVATE_NETWORK_FETCH: booleanFlag.default(false),
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds from 0.1 to 30' })
    .min(0.1, 'must be a number of seconds from 0.1 to 30')
    .max(30, 'must be a number of seconds from 0.1 to 30')
    .default(10),
  NODE_ENV: z.string().optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: z.string().min(3, 'must be an address, e.g. "Umbral <no-reply@example.com>"').optional(),
  TERMS_URL: z.string().min(1).default('/legal/terms'),
  PRIVACY_URL: z.string().min(1).default('/legal/privacy'),
  SUPPORT_URL: httpUrl.optional(),
  SUPPORT_EMAIL: z.email({ error: 'must be an email address, e.g. soporte@example.com' }).optional(),
  TERMS_VERSION: z.string().min(1).max(40).default('1'),
  // Key for secrets at rest, and where SMS codes go (see smsConfig).
  SECRET_ENCRYPTION_KEY: z
    .string()
    .refine(
      (v) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32,
      'must be 32 random bytes in base64 (openssl rand -base64 32)',
    )
    .optional(),
  SMS_PROVIDER: z.enum(['twilio', 'log', 'none'], { error: 'must be twilio, log or none' }).optional(),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC followed by 32 hex digits)')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be the Twilio auth token').optional(),
  TWILIO_FROM: z
    .string()
    .regex(
      /^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/,
      'must be an E.164 number (+15551234567) or a messaging service SID (MG…)',
    )
    .optional(),
  TWILIO_BASE_URL: httpUrl.default('https://api.twilio.com'),
  // Operators may raise the minimum, never lower it below 8.
  MIN_PASSWORD_LENGTH: z.coerce
    .number({ error: 'must be a whole number from 8 to 64' })
    .int()
    .min(8, 'must be at least 8')
    .max(64, 'must be at most 64')
    .default(8),
  SINGLE_SESSION: booleanFlag.default(false),
  // Sign-up: the phone field, and sign-ups per address an hour (offices and mobile carriers share addresses).
  SIGNUP_PHONE: z
    .enum(['required', 'optional', 'off'], { error: 'must be required, optional or off' })
    .default('optional'),
  SIGNUPS_PER_IP_PER_HOUR: z.coerce
    .number({ error: 'must be a whole number from 1 to 100000' })
    .int()
    .min(1, 'must be at least 1')
    .max(100_000, 'must be at most 100000')
    .default(10),
  // The rest of GOOGLE_* and MICROSOFT_* is read by readFederationSettings.
  MICROSOFT_TRUST_EMAIL: booleanFlag.default(false),
  FEDERATION_AUTO_LINK: booleanFlag.default(false),
  FEDERATION_TRUST_UPSTREAM_MFA: booleanFlag.default(false),
  CLIENT_REGISTRATION: z
    .enum(CLIENT_REGISTRATION_MODES, {
      error: 'must be off, token (an initial access token from `umbral clients registration-token`) or open',
    })
    .default('off'),
  ORG_SCHEDULER_INTERVAL_SECONDS: z.coerce
    .number({ error: 'must be a whole number of seconds from 1 to 3600' })
    .int('must be a whole number of seconds from 1 to 3600')
    .min(1, 'must be a whole number of seconds from 1 to 3600')
    .max(3600, 'must be a whole number of seconds from 1 to 3600')
    .default(60),
  ORG_END_WARNING_DAYS: z.coerce
    .number({ error: 'must be a whole number of days from 0 to 365' })
    .int('must be a whole number of days from 0 to 365')
    .min(0, 'must be a whole number of days from 0 to 365')
    .max(365, 'must be a whole number of days from 0 to 365')
    .default(14),
  COMPANY_SEGMENTS: z.string().optional(),
  AUDIT_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a whole number of days from 1 to 36500' })
    .int('must be a whole number of days from 1 to 36500')
    .min(1, 'must be a whole number of days from 1 to 36500')
    .max(36500, 'must be a whole number of days from 1 to 36500')
    .default(400),
  SIGN_IN_EVENTS_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a whole number of days from 1 to 36500' })
    .int('must be a whole number of days from 1 to 36500')
    .min(1, 'must be a whole number of days from 1 to 36500')
    .max(36500, 'must be a whole number of days from 1 to 36500')
    .default(400),
});

/** Empty variables count as unset, as in most shells' `VAR= cmd`. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const v = parsed.data;
  const issuer = (v.ISSUER ?? `http://localhost:${v.PORT}`).replace(/\/+$/, '');
  const secure = issuer.startsWith('https://');
  const loopback = isLoopback(new URL(issuer).hostname);
  if (!secure && !loopback) {
    throw new ConfigError('ISSUER', 'must be https:// unless the host is localhost or a loopback address');
  }
  const production = v.NODE_ENV === 'production';
  const flags = {
    MICROSOFT_TRUST_EMAIL: v.MICROSOFT_TRUST_EMAIL,
    FEDERATION_AUTO_LINK: v.FEDERATION_AUTO_LINK,
    FEDERATION_TRUST_UPSTREAM_MFA: v.FEDERATION_TRUST_UPSTREAM_MFA,
  };
  const federation = readFederationSettings(withoutEmpty(env), (name) => flags[name as keyof typeof flags] ?? false);
  if ('variable' in federation) throw new ConfigError(federation.variable, federation.message);
  if (production && !v.SMTP_URL) {
    throw new ConfigError(
      'SMTP_URL',
      'must be set in production (NODE_ENV=production): account emails need a mail server',
    );
  }
  if (!loopback && !v.SMTP_URL) {
    throw new ConfigError(
      'SMTP_URL',
      `must be set when ISSUER (${issuer}) is not a loopback address: account emails need a mail server, and the dev outbox that keeps them otherwise is served only on localhost`,
    );
  }
  const node = readNodeSettings(withoutEmpty(env), v.PORT);
  if ('variable' in node) throw new ConfigError(node.variable, node.message);
  if (node.webConcurrency > 1 && !v.DATABASE_URL) {
    throw new ConfigError('WEB_CONCURRENCY', 'above 1 needs DATABASE_URL: the embedded database lives in one process');
  }
  if (node.webConcurrency > 1 && node.metricsToken && !node.metricsPort) {
    throw new ConfigError(
      'METRICS_TOKEN',
      'with WEB_CONCURRENCY above 1, serve /metrics on METRICS_PORT, where the primary sums every worker (each worker alone would answer for itself)',
    );
  }
  if (production && !v.SECRET_ENCRYPTION_KEY) {
    throw new ConfigError(
      'SECRET_ENCRYPTION_KEY',
      'must be set in production (NODE_ENV=production): 32 random bytes in base64, e.g. openssl rand -base64 32',
    );
  }
  return {
    port: v.PORT,
    issuer,
    secure,
    dataDir: path.resolve(v.DATA_DIR),
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    redisKeyPrefix: v.REDIS_KEY_PREFIX,
    trustProxy: parseTrustProxy(v.TRUST_PROXY),
    logLevel: v.LOG_LEVEL,
    productName: v.PRODUCT_NAME,
    logoUrl: v.LOGO_URL,
    purgeIntervalSeconds: v.PURGE_INTERVAL_SECONDS,
    allowPrivateNetworkFetch: v.ALLOW_PRIVATE_NETWORK_FETCH,
    webhookRetryBaseSeconds: v.WEBHOOK_RETRY_BASE_SECONDS,
    production,
    smtpUrl: v.SMTP_URL,
    devOutbox: loopback && !v.SMTP_URL && !production,
    mailFrom: v.MAIL_FROM ?? `${v.PRODUCT_NAME} <no-reply@${new URL(issuer).hostname}>`,
    termsUrl: v.TERMS_URL,
    privacyUrl: v.PRIVACY_URL,
    support: { url: v.SUPPORT_URL, email: v.SUPPORT_EMAIL },
    termsVersion: v.TERMS_VERSION,
    minPasswordLength: v.MIN_PASSWORD_LENGTH,
    signupPhone: v.SIGNUP_PHONE,
    signupsPerIpPerHour: v.SIGNUPS_PER_IP_PER_HOUR,
    singleSession: v.SINGLE_SESSION,
    federation,
    secretEncryptionKey: v.SECRET_ENCRYPTION_KEY ? Buffer.from(v.SECRET_ENCRYPTION_KEY, 'base64') : undefined,
    sms: smsConfig(v, production),
    clientRegistration: v.CLIENT_REGISTRATION,
    orgSchedulerIntervalSeconds: v.ORG_SCHEDULER_INTERVAL_SECONDS,
    orgEndWarningDays: v.ORG_END_WARNING_DAYS,
    companySegments: parseCompanySegments(v.COMPANY_SEGMENTS),
    auditRetentionDays: v.AUDIT_RETENTION_DAYS,
    node,
    signInEventsRetentionDays: v.SIGN_IN_EVENTS_RETENTION_DAYS,
  };
}

/** SMS_PROVIDER defaults to twilio when its account is set, else log outside production and none in it. */
function smsConfig(v: z.infer<typeof schema>, production: boolean): SmsConfig {
  const provider = v.SMS_PROVIDER ?? (v.TWILIO_ACCOUNT_SID ? 'twilio' : production ? 'none' : 'log');
  if (provider === 'log' && production) {
    throw new ConfigError('SMS_PROVIDER', 'log writes codes to the log and the dev outbox: not allowed in production');
  }
  if (provider !== 'twilio') return { provider };
  for (const variable of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const) {
    if (!v[variable]) throw new ConfigError(variable, 'must be set when SMS_PROVIDER is twilio');
  }
  return {
    provider,
    accountSid: v.TWILIO_ACCOUNT_SID!,
    authToken: v.TWILIO_AUTH_TOKEN!,
    from: v.TWILIO_FROM!,
    baseUrl: v.TWILIO_BASE_URL.replace(/\/+$/, ''),
  };
}

const TRUST_PROXY_FORMS =
  'must be false, true (one proxy), a number of proxies (1, 2…) or a comma-separated list of proxy addresses or CIDRs (10.0.0.0/8, 2001:db8::/32)';

export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim().toLowerCase() ?? '';
  if (text === '' || text === 'false' || text === 'no' || text === '0') return { kind: 'none' };
  // `true` meant "trust X-Forwarded-For": kept as one proxy in front, the common setup.
  if (text === 'true' || text === 'yes') return { kind: 'hops', hops: 1 };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 20)
      throw new ConfigError('TRUST_PROXY', `${text} proxies in a row is not plausible: ${TRUST_PROXY_FORMS}`);
    return { kind: 'hops', hops };
  }
  const ranges = text.split(',').map((entry) => entry.trim());
  return { kind: 'addresses', ranges: ranges.map(proxyRange) };
}

function proxyRange(entry: string): ProxyRange {
  const [rawAddress = '', rawPrefix, ...rest] = entry.split('/');
  const address = rawAddress.replace(/^\[(.*)\]$/, '$1');
  const version = isIP(address);
  if (!entry || rest.length || version === 0) {
    throw new ConfigError('TRUST_PROXY', `"${entry}" is not an IP address or CIDR: ${TRUST_PROXY_FORMS}`);
  }
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  const prefix = rawPrefix === undefined ? bits : /^\d{1,3}$/.test(rawPrefix) ? Number(rawPrefix) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) {
    throw new ConfigError('TRUST_PROXY', `"${entry}": the prefix length must be 0 to ${bits}`);
  }
  return { address, prefix, family };
}

/** localhost (and *.localhost, RFC 6761), 127.0.0.0/8 and [::1]; not a name that merely starts with "127.". */
function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    (isIPv4(hostname) && hostname.startsWith('127.')) ||
    hostname === '[::1]'
  );
}
