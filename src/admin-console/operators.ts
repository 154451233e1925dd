import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { UserRepository } from '../users/users.ts';

/** An operator refused: unknown address, already one, not one. Nothing was changed. */
export class OperatorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorInputError';
  }
}

export interface Operator {
  userId: string;
  email: string;
  name: string | null;
  grantedAt: Date;
  grantedBy: string | null;
}

/**
 * Who may use the operator console: people with an Umbral account granted by `umbral operators
 * add`. The grant is the account's (user id), so it survives an email change and goes with it.
 */
export class OperatorDirectory {
  private readonly users: UserRepository;

  constructor(private readonly db: Kysely<Database>) {
    this.users = new UserRepository(db);
  }

  async isOperator(userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('operators')
      .select('user_id')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return !!row;
  }

  async list(): Promise<Operator[]> {
    const rows = await this.db
      .selectFrom('operators')
      .innerJoin('users', 'users.id', 'operators.user_id')
      .select(['operators.user_id', 'users.email', 'users.name', 'operators.granted_at', 'operators.granted_by'])
      .orderBy('operators.granted_at')
      .orderBy('users.email')
      .execute();
    return rows.map((row) => ({
      userId: row.user_id,
      email: row.email,
      name: row.name,
      grantedAt: new Date(row.granted_at),
      grantedBy: row.granted_by,
    }));
  }

  /** Grants the account of `email`; it must exist (the operator signs in with it). */
  async add(email: string, grantedBy: string): Promise<Operator> {
    const user = await this.userOf(email);
    const inserted = await this.db
      .insertInto('operators')
      .values({ user_id: user.id, granted_by: grantedBy })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .returning(['granted_at', 'granted_by'])
      .executeTakeFirst();
    if (!inserted) throw new OperatorInputError(`${user.email} is already an operator`);
    return {
      userId: user.id,
      email: user.email,
      name: user.name,
      grantedAt: new Date(inserted.granted_at),
      grantedBy: inserted.granted_by,
    };
  }

  /** Takes the grant away; the person's sessions stay (their next console request is refused). */
  async remove(email: string): Promise<{ userId: string; email: string }> {
    const user = await this.userOf(email);
    const result = await this.db.deleteFrom('operators').where('user_id', '=', user.id).executeTakeFirst();
    if (!Number(result.numDeletedRows)) throw new OperatorInputError(`${user.email} is not an operator`);
    return { userId: user.id, email: user.email };
  }

  private async userOf(email: string) {
    const normalized = normalizeEmail(email);
    if (!isValidEmail(normalized)) throw new OperatorInputError(`"${email}" is not a valid email address`);
    const user = await this.users.findByEmail(normalized);
    if (!user) throw new OperatorInputError(`no user has the email ${normalized}; add them first (umbral users add)`);
    return user;
  }
}
