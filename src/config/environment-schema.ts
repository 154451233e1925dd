import { z } from 'zod';

export const CLIENT_REGISTRATION_MODES = ['off', 'token', 'open'] as const;
export type ClientRegistrationMode = (typeof CLIENT_REGISTRATION_MODES)[number];

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/**
 * The environment variables Umbral reads, each with its form and the message a wrong value gets;
 * loadConfig (config.ts) turns what passes into the Config.
 */
export const environmentSchema = z.object({
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

export type Environment = z.infer<typeof environmentSchema>;
