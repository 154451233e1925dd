import { MAX_NAME_LENGTH } from '../users/person-name.ts';
import { MAX_SEARCH_LENGTH } from '../users/user-search.ts';
import { pageQuery } from './pagination.ts';
import { z } from './zod.ts';

/**
 * The users' resource as the Admin API writes and reads it. The shapes are checked here; the
 * rules (password policy, email uniqueness, E.164 phone, name length) are the users' service's
 * (src/users/user-changes.ts), the same as the CLI's and the console's.
 */
const email = z.string().trim().min(3).max(254).openapi({ example: 'ana@example.com' });
const phone = z.string().max(20).openapi({ description: 'E.164', example: '+5215512345678' });
const name = z.string().max(MAX_NAME_LENGTH * 4);

export const UserIdParams = z.object({ user_id: z.string().min(1).max(100) });
export const UserSessionParams = z.object({
  user_id: z.string().min(1).max(100),
  session_uid: z.string().min(1).max(200),
});

export const UserListQuery = z.object({
  ...pageQuery,
  query: z
    .string()
    .max(MAX_SEARCH_LENGTH)
    .optional()
    .openapi({ description: 'Part of the email or the name, any case.' }),
  disabled: z.enum(['true', 'false']).optional(),
});

export const UserCreateSchema = z
  .strictObject({
    email,
    password: z.string().min(1).max(1024).optional().openapi({ description: 'Omit it for an account without one.' }),
    name: name.optional(),
    phone: phone.optional(),
    email_verified: z.boolean().default(false),
  })
  .openapi('UserCreate');

export const UserUpdateSchema = z
  .strictObject({
    name: name.nullable().optional(),
    email: email.optional().openapi({ description: 'A new email is unverified unless email_verified is true.' }),
    email_verified: z.boolean().optional(),
    phone: phone.nullable().optional(),
    phone_verified: z.boolean().optional(),
  })
  .refine((value) => Object.keys(value).length > 0, { message: 'give at least one field to change' })
  .openapi('UserUpdate');

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    email_verified: z.boolean(),
    name: z.string().nullable(),
    phone: z.string().nullable(),
    phone_verified: z.boolean(),
    has_password: z.boolean().openapi({ description: 'Whether there is one; never the password or its hash.' }),
    disabled: z.boolean(),
    disabled_at: z.string().nullable(),
    locale: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    last_login_at: z.string().nullable(),
  })
  .openapi('User');

export const UserDetailsSchema = UserSchema.extend({
  factors: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['totp', 'sms', 'passkey']),
      label: z.string().nullable(),
      created_at: z.string(),
      last_used_at: z.string().nullable(),
    }),
  ),
  recovery_codes_left: z.number().int(),
  identities: z.array(
    z.object({
      provider: z.string(),
      email: z.string().nullable(),
      linked_at: z.string(),
      last_login_at: z.string().nullable(),
    }),
  ),
  organizations: z.array(z.object({ id: z.string(), name: z.string(), roles: z.array(z.string()) })),
  sessions: z.number().int().openapi({ description: 'Live browser sessions.' }),
}).openapi('UserDetails');

export const UserStateSchema = z
  .object({
    user: UserSchema,
    changed: z.boolean().openapi({ description: 'False when it already was so.' }),
    sessions_ended: z.number().int(),
  })
  .openapi('UserState');

export const SessionSchema = z
  .object({
    uid: z.string(),
    browser: z.string().nullable(),
    os: z.string().nullable(),
    ip: z.string().nullable(),
    signed_in_at: z.string().nullable(),
    last_seen_at: z.string().nullable(),
    portals: z.array(z.string()),
  })
  .openapi('UserSession');

export const SessionListSchema = z.object({ items: z.array(SessionSchema) }).openapi('UserSessionList');

export const SessionsEndedSchema = z.object({ sessions_ended: z.number().int() }).openapi('SessionsEnded');
export const FactorResetSchema = z.object({ factors_removed: z.number().int() }).openapi('FactorReset');

export const SignInEventQuery = z.object({ ...pageQuery });

/** Dates as RFC 3339 strings, everywhere in the answers. */
export function withDates<T extends object>(value: T): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      item instanceof Date
        ? item.toISOString()
        : Array.isArray(item)
          ? item.map((x) => (x && typeof x === 'object' ? withDates(x) : x))
          : item,
    ]),
  );
}
