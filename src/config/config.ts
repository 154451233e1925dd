import { isIPv4 } from 'node:net';
import path from 'node:path';
import { type FederationSettings, readFederationSettings } from '../federation/federation-settings.ts';
import { parseCompanySegments } from './company-segments.ts';
import { ConfigError } from './config-error.ts';
import { type ClientRegistrationMode, type Environment, environmentSchema } from './environment-schema.ts';
import { type NodeSettings, readNodeSettings } from './node-settings.ts';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.ts';

// loadConfig throws it: its callers catch it from here.
export { ConfigError };

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

export type SmsConfig =
  | { provider: 'twilio'; accountSid: string; authToken: string; from: string; baseUrl: string }
  | { provider: 'log' }
  | { provider: 'none' };

/** Empty variables count as unset, as in most shells' `VAR= cmd`. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const vars = withoutEmpty(env);
  const parsed = environmentSchema.safeParse(vars);
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
  const federation = readFederationSettings(vars, (name) => flags[name as keyof typeof flags] ?? false);
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
  const node = readNodeSettings(vars, v.PORT);
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
function smsConfig(v: Environment, production: boolean): SmsConfig {
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

/** localhost (and *.localhost, RFC 6761), 127.0.0.0/8 and [::1]; not a name that merely starts with "127.". */
function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    (isIPv4(hostname) && hostname.startsWith('127.')) ||
    hostname === '[::1]'
  );
}
