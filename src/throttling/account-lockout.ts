import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Locale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { type LockedAccount, UNLOCK_TOKEN_TTL_MS, type UnlockLinks } from './unlock-links.ts';

const LOCKOUT_FAILURES = 'select failures from login_lockouts where user_id = $1';

/** NIST SP 800-63B §5.2.2: no more than 100 consecutive failed attempts on one account. */
export const LOCKOUT_THRESHOLD = 100;

/** What the password step needs of the lockout; see AccountLockout. */
export interface PasswordLockout {
  recordFailure(account: LockedAccount | undefined, locale: Locale): Promise<'open' | 'locked'>;
  isLocked(account: LockedAccount, locale: Locale): Promise<boolean>;
  admitPassword(account: LockedAccount, locale: Locale): Promise<'locked' | 'admitted'>;
  reset(accountId: string): Promise<void>;
}

export interface AccountLockoutDependencies {
  db: Kysely<Database>;
  links: Pick<UnlockLinks, 'send' | 'consume'>;
  logger: Logger;
  threshold?: number;
  now?: () => number;
}

/**
 * The hard cap on wrong passwords the throttle's delays do not give (they stop growing at a
 * minute). Consecutive wrong passwords are counted per account in `login_lockouts`, durably and
 * for every process. At the threshold the password no longer signs in, not even the right one,
 * until the owner opens the unlock link mailed to them, resets the password, or signs in another
 * way (passkey, Google, Microsoft): those are not locked, so a stranger cannot lock the owner out.
 * Unknown emails are never counted and never mailed.
 */
export class AccountLockout implements PasswordLockout {
  private readonly threshold: number;
  private readonly now: () => number;

  constructor(private readonly deps: AccountLockoutDependencies) {
    this.threshold = deps.threshold ?? LOCKOUT_THRESHOLD;
    this.now = deps.now ?? Date.now;
  }

  /** Counts one wrong password of `account` (none for an unknown email) and says whether it is now locked. */
  async recordFailure(account: LockedAccount | undefined, locale: Locale): Promise<'open' | 'locked'> {
    const at = new Date(this.now());
    if (!account) {
      // The same kind of statement against no row: an unknown email costs about what a known one does.
      await this.deps.db
        .updateTable('login_lockouts')
        .set({ failures: sql<number>`failures + 1`, last_failure_at: at })
        .where('user_id', '=', '')
        .execute();
      return 'open';
    }
    // One statement, so concurrent failures in any process each count.
    const { failures } = await this.deps.db
      .insertInto('login_lockouts')
      .values({ user_id: account.id, failures: 1, last_failure_at: at })
      .onConflict((conflict) =>
        conflict.column('user_id').doUpdateSet({
          failures: sql<number>`login_lockouts.failures + 1`,
          last_failure_at: at,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    if (failures < this.threshold) return 'open';
    if (failures === this.threshold) {
      this.deps.logger.warn({ event: 'login.locked', accountId: account.id }, 'password sign-in locked');
    }
    await this.mailOwnerOnce(account, locale);
    return 'locked';
  }

  /** Whether the right password must still be refused; mails a fresh link if the last one expired. */
  async isLocked(account: LockedAccount, locale: Locale): Promise<boolean> {
    if ((await this.failures(account.id)) < this.threshold) return false;
    await this.mailOwnerOnce(account, locale);
    return true;
  }

  /**
   * The right password was given: refused while the account is locked (mailing a fresh link if
   * the last one expired), else the count starts over; with no failure counted, nothing is written.
   */
  async admitPassword(account: LockedAccount, locale: Locale): Promise<'locked' | 'admitted'> {
    const failures = await this.failures(account.id);
    if (failures >= this.threshold) {
      await this.mailOwnerOnce(account, locale);
      return 'locked';
    }
    if (failures > 0) await this.reset(account.id);
    return 'admitted';
  }

  /** Consecutive wrong passwords of the account so far. */
  async failures(accountId: string): Promise<number> {
    // Asked at every password sign-in: written out once rather than built each time.
    const { rows } = await this.deps.db.executeQuery<{ failures: number }>(
      CompiledQuery.raw(LOCKOUT_FAILURES, [accountId]),
    );
    return rows[0]?.failures ?? 0;
  }

  /** The owner proved themselves (a sign-in by any method, a password reset): the count starts over. */
  async reset(accountId: string): Promise<void> {
    await this.deps.db.deleteFrom('login_lockouts').where('user_id', '=', accountId).execute();
  }

  /** An unlock link's POST: lifts the lock once; undefined when the link is not (or no longer) valid. */
  async unlock(token: string): Promise<string | undefined> {
    const accountId = await this.deps.links.consume(token);
    if (!accountId) return undefined;
    await this.reset(accountId);
    this.deps.logger.info({ event: 'login.unlocked', accountId }, 'password sign-in unlocked by the emailed link');
    return accountId;
  }

  /**
   * Claims the lock's one mail: the row is marked in the same statement that checks it, so of
   * many processes failing at once only one sends. A lock whose link expired mails a new one.
   */
  private async mailOwnerOnce(account: LockedAccount, locale: Locale): Promise<void> {
    const at = this.now();
    const claimed = await this.deps.db
      .updateTable('login_lockouts')
      .set({ unlock_mailed_at: new Date(at) })
      .where('user_id', '=', account.id)
      .where('failures', '>=', this.threshold)
      .where((eb) =>
        eb.or([eb('unlock_mailed_at', 'is', null), eb('unlock_mailed_at', '<=', new Date(at - UNLOCK_TOKEN_TTL_MS))]),
      )
      .returning('user_id')
      .executeTakeFirst();
    if (claimed) await this.deps.links.send(account, locale);
  }
}
