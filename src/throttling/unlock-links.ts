import type { Kysely } from 'kysely';
import { type Locale, preferredLocale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { enqueueQuietly, type Mailer } from '../notify/mailer.ts';
import type { Database } from '../storage/schema.ts';
import { AccountTokenRepository, hashOpaqueToken, newOpaqueToken } from '../users/account-tokens.ts';

export const UNLOCK_PURPOSE = 'unlock_login';
/** How long an unlock link works; a lock mails a new one once the last has expired. */
export const UNLOCK_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
/** Unlock mails to one account per day, whatever happens: someone who keeps re-locking it cannot flood the inbox. */
export const UNLOCK_MAILS_PER_DAY = 3;

/** Who a locked account's mail goes to. */
export interface LockedAccount {
  id: string;
  email: string;
  locale: string | null;
}

export interface UnlockLinksDependencies {
  db: Kysely<Database>;
  mailer: Mailer;
  logger: Logger;
  /** Links start from ISSUER, never from the Host header. */
  issuer: string;
  now?: () => number;
}

/**
 * The links that lift a lock on the password sign-in (account-lockout.ts): single-use tokens of
 * purpose `unlock_login` in `account_tokens` (only their hash is stored), mailed to the owner.
 */
export class UnlockLinks {
  private readonly tokens: AccountTokenRepository;
  private readonly now: () => number;

  constructor(private readonly deps: UnlockLinksDependencies) {
    this.now = deps.now ?? Date.now;
    this.tokens = new AccountTokenRepository(deps.db, this.now);
  }

  unlockUrl(token: string): string {
    return `${this.deps.issuer}/unlock?token=${encodeURIComponent(token)}`;
  }

  /** Mails the owner a new link (voiding older ones), unless the day's allowance is spent. */
  async send(account: LockedAccount, pageLocale: Locale): Promise<void> {
    const dayAgo = new Date(this.now() - 24 * 60 * 60 * 1000);
    if ((await this.tokens.countIssuedSince(account.id, UNLOCK_PURPOSE, dayAgo)) >= UNLOCK_MAILS_PER_DAY) {
      this.deps.logger.warn({ event: 'login.unlock_mail_limited', accountId: account.id }, 'unlock mail limit reached');
      return;
    }
    const token = newOpaqueToken();
    await this.tokens.issue({
      userId: account.id,
      purpose: UNLOCK_PURPOSE,
      tokenHash: hashOpaqueToken(token),
      ttlMs: UNLOCK_TOKEN_TTL_MS,
      data: {},
    });
    await enqueueQuietly(this.deps.mailer, this.deps.logger, {
      to: account.email,
      template: 'unlock-login',
      locale: preferredLocale(account.locale, pageLocale),
      data: { email: account.email, unlockUrl: this.unlockUrl(token), expiresInHours: UNLOCK_TOKEN_TTL_MS / 3_600_000 },
    });
    this.deps.logger.info({ event: 'login.unlock_mailed', accountId: account.id }, 'unlock link mailed');
  }

  /** The owner's email when the link's token is unused, unexpired and its account enabled. */
  async find(token: string): Promise<{ email: string } | undefined> {
    const found = await this.tokens.findValid(token, UNLOCK_PURPOSE);
    return found ? { email: found.owner.email } : undefined;
  }

  /** Uses the link up, once (of two concurrent uses one gets nothing); returns its account. */
  async consume(token: string): Promise<string | undefined> {
    const found = await this.tokens.findValid(token, UNLOCK_PURPOSE);
    if (!found) return undefined;
    return (await this.tokens.consume(found.row.id, UNLOCK_PURPOSE))?.user_id;
  }
}
