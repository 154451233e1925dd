import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export const REMEMBER_DEVICE_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * "Recordar este dispositivo durante 30 días": after a second factor, this browser may skip it
 * for that user. The cookie holds a 256-bit token; the database only its hash. Changing factors
 * deletes the user's remembered devices; a password change after one was remembered voids it.
 * Scoped to /interaction: only the login reads it.
 */
export class RememberedDevices {
  private readonly cookieName: string;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly secure: boolean,
    private readonly now: () => number = Date.now,
  ) {
    this.cookieName = secure ? '__Secure-umbral.device' : 'umbral.device';
  }

  private cookieOptions(maxAge: number) {
    return {
      signed: true,
      httpOnly: true,
      sameSite: 'lax' as const,
      secure: this.secure,
      path: '/interaction',
      maxAge,
      overwrite: true,
    };
  }

  async remember(ctx: Context, userId: string): Promise<void> {
    const token = randomBytes(32).toString('base64url');
    const expires = this.now() + REMEMBER_DEVICE_DAYS * DAY_MS;
    await this.db
      .insertInto('mfa_remembered_devices')
      .values({
        token_hash: hashToken(token),
        user_id: userId,
        created_at: new Date(this.now()),
        expires_at: new Date(expires),
      })
      .execute();
    ctx.cookies.set(this.cookieName, token, this.cookieOptions(REMEMBER_DEVICE_DAYS * DAY_MS));
  }

  /** Whether this browser was remembered for `user` since the user's password last changed. */
  async isRemembered(ctx: Context, user: { id: string; password_changed_at: Date | null }): Promise<boolean> {
    const token = ctx.cookies.get(this.cookieName, { signed: true });
    if (!token || token.length > 100) return false;
    const row = await this.db
      .selectFrom('mfa_remembered_devices')
      .select('created_at')
      .where('token_hash', '=', hashToken(token))
      .where('user_id', '=', user.id)
      .where('expires_at', '>', new Date(this.now()))
      .executeTakeFirst();
    if (!row) return false;
    return (
      !user.password_changed_at || new Date(row.created_at).getTime() > new Date(user.password_changed_at).getTime()
    );
  }

  /** Every device remembered for the user stops skipping the second factor (factors changed, operator reset). */
  async forgetAll(userId: string): Promise<void> {
    await this.db.deleteFrom('mfa_remembered_devices').where('user_id', '=', userId).execute();
  }

  async purgeExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('mfa_remembered_devices')
      .where('expires_at', '<', new Date(this.now()))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
