import { type Kysely, sql, type Updateable } from 'kysely';
import type { Config } from '../config/config.ts';
import { translator } from '../i18n/i18n.ts';
import type { Database, UserRow, UserTable } from '../storage/schema.ts';
import { UserAdministrationError } from './admin-user.ts';
import { isValidEmail, normalizeEmail } from './email.ts';
import { checkPassword } from './password-policy.ts';
import { MAX_NAME_LENGTH, nameProblem, normalizeName } from './person-name.ts';
import type { NewUserInput } from './users.ts';

/** What an administrator may change of a user; only the fields given change. null clears. */
export interface UserChanges {
  name?: string | null | undefined;
  email?: string | undefined;
  emailVerified?: boolean | undefined;
  phone?: string | null | undefined;
  phoneVerified?: boolean | undefined;
}

/** E.164, as users.ts stores phones (and `users add --phone` has always required). */
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * The checks every way of creating or editing a user applies (the same policy as sign-up and the
 * account page: password policy, name length, email shape and uniqueness, E.164 phone), stated
 * in English for operators, each tied to its field.
 */
export class UserChangeValidator {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: Pick<Config, 'minPasswordLength' | 'productName'>,
  ) {}

  /** The input with its name tidied; throws on the first value refused. */
  checkNewUser(input: NewUserInput): NewUserInput {
    const email = normalizeEmail(input.email);
    if (!isValidEmail(email)) throw invalid('email', `"${input.email}" is not a valid email address`);
    if (input.password !== undefined) {
      const verdict = checkPassword(input.password, {
        email,
        minLength: this.config.minPasswordLength,
        productName: this.config.productName,
      });
      if (!verdict.ok) throw invalid('password', translator('en')(verdict.messageKey, verdict.vars));
    }
    const name = input.name === undefined ? undefined : this.name(input.name);
    if (input.phone !== undefined) this.phone(input.phone);
    return { ...input, email, name: name ?? undefined };
  }

  /** The columns to set and a before/after summary of what actually changes (nothing secret). */
  async check(
    user: UserRow,
    changes: UserChanges,
  ): Promise<{ set: Updateable<UserTable>; summary: Record<string, { from: unknown; to: unknown }> }> {
    const set: Updateable<UserTable> = {};
    const summary: Record<string, { from: unknown; to: unknown }> = {};
    const change = <K extends keyof UserRow & keyof UserTable>(column: K, to: UserRow[K]) => {
      if (user[column] === to) return;
      (set as Record<string, unknown>)[column] = to;
      summary[column] = { from: user[column], to };
    };
    if (changes.name !== undefined) change('name', changes.name === null ? null : (this.name(changes.name) ?? null));
    if (changes.email !== undefined) {
      const email = normalizeEmail(changes.email);
      if (!isValidEmail(email)) throw invalid('email', `"${changes.email}" is not a valid email address`);
      const another = await this.db
        .selectFrom('users')
        .select('id')
        .where(sql<string>`lower(email)`, '=', email.toLowerCase())
        .where('id', '!=', user.id)
        .executeTakeFirst();
      if (another) throw new UserAdministrationError('conflict', `another user has the email ${email}`, 'email');
      change('email', email);
      // A new address is unverified unless the operator says it was checked.
      const sameMailbox = email.toLowerCase() === user.email.toLowerCase();
      change('email_verified', changes.emailVerified ?? (sameMailbox ? user.email_verified : false));
    } else if (changes.emailVerified !== undefined) {
      change('email_verified', changes.emailVerified);
    }
    if (changes.phone !== undefined || changes.phoneVerified !== undefined) {
      const phone =
        changes.phone === undefined ? user.phone : changes.phone === null ? null : this.phone(changes.phone);
      const verified = changes.phoneVerified ?? (phone === user.phone ? user.phone_verified : false);
      if (verified && !phone) throw invalid('phoneVerified', 'a user without a phone cannot have it verified');
      change('phone', phone);
      change('phone_verified', phone ? verified : false);
    }
    return { set, summary };
  }

  private name(input: string): string | undefined {
    const name = normalizeName(input);
    // Optional for administrators (users add never required it), but never longer than sign-up allows.
    if (nameProblem(name) === 'name_too_long')
      throw invalid('name', `name must be at most ${MAX_NAME_LENGTH} characters`);
    return name || undefined;
  }

  private phone(input: string): string {
    const phone = input.trim();
    if (!E164.test(phone)) throw invalid('phone', 'phone must be in E.164 form, e.g. +5215512345678');
    return phone;
  }
}

function invalid(field: string, message: string): UserAdministrationError {
  return new UserAdministrationError('invalid', message, field);
}
