import path from 'node:path';
import { z } from 'zod';

/** Umbral's whole configuration, read once from the environment. */
export interface Config {
  port: number;
  issuer: string;
  /** True when ISSUER is https: secure, prefixed cookies and HSTS. */
  secure: boolean;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  trustProxy: boolean;
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
  /** NODE_ENV=production: no dev outbox, mail must be configured. */
  production: boolean;
  /** smtp:// or smtps:// with credentials; unset outside production → the dev outbox. */
  smtpUrl: string | undefined;
  mailFrom: string;
  termsUrl: string;
  privacyUrl: string;
  /** Stored with each user's acceptance, so a new version can be asked for again. */
  termsVersion: string;
  minPasswordLength: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
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
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  TRUST_PROXY: booleanFlag.default(false),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  PRODUCT_NAME: z.string().min(1, 'must not be empty').max(60, 'must be at most 60 characters').default('Umbral'),
  LOGO_URL: z.string().min(1).optional(),
  PURGE_INTERVAL_SECONDS: z.coerce.number().int().min(10, 'must be at least 10').default(600),
  ALLOW_PRIVATE_NETWORK_FETCH: booleanFlag.default(false),
  NODE_ENV: z.string().optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: z.string().min(3, 'must be an address, e.g. "Umbral <no-reply@example.com>"').optional(),
  TERMS_URL: z.string().min(1).default('/legal/terms'),
  PRIVACY_URL: z.string().min(1).default('/legal/privacy'),
  TERMS_VERSION: z.string().min(1).max(40).default('1'),
  // Operators may raise the minimum, never lower it below 8.
  MIN_PASSWORD_LENGTH: z.coerce.number({ error: 'must be a whole number from 8 to 64' }).int().min(8, 'must be at least 8').max(64, 'must be at most 64').default(8),
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
  if (!secure && !isLoopback(new URL(issuer).hostname)) {
    throw new ConfigError('ISSUER', 'must be https:// unless the host is localhost or a loopback address');
  }
  const production = v.NODE_ENV === 'production';
  if (production && !v.SMTP_URL) {
    throw new ConfigError('SMTP_URL', 'must be set in production (NODE_ENV=production): account emails need a mail server');
  }
  return {
    port: v.PORT,
    issuer,
    secure,
    dataDir: path.resolve(v.DATA_DIR),
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    trustProxy: v.TRUST_PROXY,
    logLevel: v.LOG_LEVEL,
    productName: v.PRODUCT_NAME,
    logoUrl: v.LOGO_URL,
    purgeIntervalSeconds: v.PURGE_INTERVAL_SECONDS,
    allowPrivateNetworkFetch: v.ALLOW_PRIVATE_NETWORK_FETCH,
    production,
    smtpUrl: v.SMTP_URL,
    mailFrom: v.MAIL_FROM ?? `${v.PRODUCT_NAME} <no-reply@${new URL(issuer).hostname}>`,
    termsUrl: v.TERMS_URL,
    privacyUrl: v.PRIVACY_URL,
    termsVersion: v.TERMS_VERSION,
    minPasswordLength: v.MIN_PASSWORD_LENGTH,
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname.startsWith('127.') || hostname === '[::1]';
}
