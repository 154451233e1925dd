import { randomUUID } from 'node:crypto';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import { lookupsByKey } from '../storage/batched-lookups.ts';
import type { Database, UserRow } from '../storage/schema.ts';
import { NO_WEBHOOK_EVENTS, type WebhookEvents } from '../webhooks/webhook-events.ts';
import { isValidEmail, normalizeEmail } from './email.ts';
import { hashPassword } from './password-hasher.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy.ts';
import { isTimeZone } from './time-zone.ts';

export class UserInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** The columns of a user that its OpenID claims and its availability come from. */
export const USER_CLAIM_COLUMNS = [
  'id',
  'email',
  'email_verified',
  'name',
  'updated_at',
  'phone',
  'phone_verified',
  'disabled',
] as const satisfies readonly (keyof UserRow)[];
export type UserClaimsRow = Pick<UserRow, (typeof USER_CLAIM_COLUMNS)[number]>;

export interface NewUserInput {
  email: string;
  password?: string | undefined;
  name?: string | undefined;
  phone?: string | undefined;
  emailVerified?: boolean | undefined;
  /** Who creates it, for the `user.created` webhook event (default: an operator). */
  source?: 'operator' | 'admin_api' | undefined;
}

// The statements of every password sign-in, written out once (src/storage/sql-placeholders.ts says why).
const USERS_BY_ID = 'select * from users where id in';
// Token requests read only what claims and availability need: no password hash, a third of the columns.
const CLAIMS_BY_ID = `select ${USER_CLAIM_COLUMNS.join(', ')} from users where id in`;
const USER_BY_EMAIL = 'select * from users where lower(email) = $1';
const RECORD_LOGIN = 'update users set last_login_at = $1 where id = $2';

export class UserRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** Where `create` announces `user.created` (src/webhooks). */
    private readonly webhooks: WebhookEvents = NO_WEBHOOK_EVENTS,
  ) {}

  /** A whole user by id (sign-in steps, consoles); concurrent reads go together. */
  readonly #byId = lookupsByKey<UserRow>(
    () => this.db,
    USERS_BY_ID,
    (row) => row.id,
  );

  async findById(id: string): Promise<UserRow | undefined> {
    return this.#byId.find(id);
  }

  /** An account's claims and whether it is disabled: what every refresh, userinfo and ID token reads. */
  readonly #claimsById = lookupsByKey<UserClaimsRow>(
    () => this.db,
    CLAIMS_BY_ID,
    (row) => row.id,
  );

  async findClaimsById(id: string): Promise<UserClaimsRow | undefined> {
    return this.#claimsById.find(id);
  }

  /** Case-insensitive, served by the unique index on lower(email). */
  async findByEmail(email: string): Promise<UserRow | undefined> {
    const { rows } = await this.db.executeQuery<UserRow>(
      CompiledQuery.raw(USER_BY_EMAIL, [normalizeEmail(email).toLowerCase()]),
    );
    return rows[0];
  }

  async list(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('created_at').execute();
  }

  async create(input: NewUserInput): Promise<UserRow> {
    const email = normalizeEmail(input.email);
    if (!isValidEmail(email)) throw new UserInputError(`"${input.email}" is not a valid email address`);
    if (input.password !== undefined) assertPasswordShape(input.password);
    if (input.phone !== undefined && !/^\+[1-9]\d{6,14}$/.test(input.phone)) {
      throw new UserInputError('phone must be in E.164 form, e.g. +5215512345678');
    }
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    const row = await this.db
      .insertInto('users')
      .values({
        id: randomUUID(),
        email,
        email_verified: input.emailVerified ?? false,
        name: input.name?.trim() || null,
        phone: input.phone ?? null,
        password_hash: passwordHash,
      })
      .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new UserInputError(`a user with email ${email} already exists`);
    await this.webhooks.emit('user.created', {
      user_id: row.id,
      email: row.email,
      name: row.name,
      email_verified: row.email_verified,
      source: input.source ?? 'operator',
    });
    return row;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  }

  /** A password changed by its owner (account page): the time is kept, e.g. to void older email-change links. */
  async changePassword(id: string, passwordHash: string): Promise<void> {
    const now = new Date();
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: now, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  /** A phone that changes is no longer verified. */
  async updateProfile(id: string, profile: { name: string; phone: string | null }): Promise<void> {
    await this.db
      .updateTable('users')
      .set({
        name: profile.name,
        phone: profile.phone,
        // Compared with the stored value before the update: still verified only if unchanged.
        phone_verified: sql<boolean>`phone_verified and phone is not distinct from ${profile.phone}`,
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Sets a new email whose mailbox was proven (a confirmation link): verified. */
  async changeEmail(id: string, email: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ email: normalizeEmail(email), email_verified: true, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  }

  /** The time zone of the person's browser (src/users/time-zone.ts), kept unless one is stored already. */
  async rememberTimeZone(id: string, typed: unknown): Promise<void> {
    if (!isTimeZone(typed)) return;
    await this.db
      .updateTable('users')
      .set({ time_zone: typed })
      .where('id', '=', id)
      .where('time_zone', 'is', null)
      .execute();
  }

  /** The zone chosen on the account page; null goes back to the browser's or the issuer's. */
  async setTimeZone(id: string, zone: string | null): Promise<void> {
    await this.db.updateTable('users').set({ time_zone: zone, updated_at: new Date() }).where('id', '=', id).execute();
  }

  async recordLogin(id: string): Promise<void> {
    await this.db.executeQuery(CompiledQuery.raw(RECORD_LOGIN, [new Date(), id]));
  }
}

export function assertPasswordShape(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new UserInputError(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if ([...password].length > MAX_PASSWORD_LENGTH) {
    throw new UserInputError(`password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}
