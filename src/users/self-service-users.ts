import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database, UserRow } from '../storage/schema.ts';
import { NO_WEBHOOK_EVENTS, type WebhookEvents } from '../webhooks/webhook-events.ts';
import { signUpDatabase } from './email-verification.ts';
import { isTimeZone } from './time-zone.ts';

/** An account a person opens themselves (the sign-up form, or Google or Microsoft), already checked. */
export interface SelfServiceSignUp {
  email: string;
  name: string;
  /** E.164; a federated sign-up asks for none. */
  phone?: string | null | undefined;
  /** Hashed by the caller, who spends a hash whether or not the email is taken; absent: signs in upstream only. */
  passwordHash?: string | null | undefined;
  /** True only when an upstream provider vouched for the email; else it must be verified before a login completes. */
  emailVerified: boolean;
  locale: string;
  /** The browser's IANA zone (src/users/time-zone.ts), when the form's script could read it. */
  timeZone?: string | undefined;
}

/**
 * Creates self-service accounts, unlike UserRepository.create (operators, the CLI): the terms
 * version in force is recorded as accepted, and an unverified email holds back every login
 * until it is verified (see requiresEmailVerification).
 */
export class SelfServiceUsers {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly termsVersion: string,
    /** Where `create` announces `user.created` (src/webhooks). */
    private readonly webhooks: WebhookEvents = NO_WEBHOOK_EVENTS,
  ) {}

  /** The new account, or undefined when the email already has one (a concurrent sign-up included). */
  async create(signUp: SelfServiceSignUp): Promise<UserRow | undefined> {
    const now = new Date();
    const passwordHash = signUp.passwordHash ?? null;
    const row = await signUpDatabase(this.db)
      .insertInto('users')
      .values({
        id: randomUUID(),
        email: signUp.email,
        email_verified: signUp.emailVerified,
        email_verification_required: !signUp.emailVerified,
        name: signUp.name,
        phone: signUp.phone ?? null,
        password_hash: passwordHash,
        terms_version: this.termsVersion,
        terms_accepted_at: now,
        locale: signUp.locale,
        time_zone: isTimeZone(signUp.timeZone) ? signUp.timeZone : null,
        password_changed_at: passwordHash === null ? null : now,
      })
      .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst();
    // Not awaited: the person's sign-up does not wait for the queue's insert.
    if (row) {
      void this.webhooks.emit('user.created', {
        user_id: row.id,
        email: row.email,
        name: row.name,
        email_verified: row.email_verified,
        source: passwordHash === null ? 'federation' : 'sign_up',
      });
    }
    return row;
  }
}
