import type { Kysely } from 'kysely';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import type { Locale } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { enqueueQuietly, type Mailer, type OutgoingEmail } from '../notify/mailer.ts';
import { RESET_PURPOSE } from '../password-reset/password-reset-tokens.ts';
import type { Database, UserRow } from '../storage/schema.ts';
import { AccountTokenRepository, accountTokenData, hashOpaqueToken, newOpaqueToken } from '../users/account-tokens.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { UserRepository } from '../users/users.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';

export const CHANGE_EMAIL_PURPOSE = 'change_email';
export const CHANGE_EMAIL_LINK_TTL_MS = 24 * 60 * 60 * 1000;
/** Requests per account per hour: each one mails two addresses. */
export const CHANGE_EMAIL_REQUESTS_PER_HOUR = 5;

interface ChangeEmailData {
  newEmail: string;
  /** The password's age when asked: a password change since voids the link. */
  passwordChangedAt: string | null;
}

export type RequestOutcome = { kind: 'sent' } | { kind: 'invalid' | 'same' | 'limited' };
export type ConfirmOutcome = { kind: 'changed'; newEmail: string } | { kind: 'invalid' | 'taken' };

/**
 * Changing the sign-in email: a link to the new address proves it is theirs, and the old address
 * is told at once, so its owner can react if it was not them. The link (24 h, single use, only
 * the newest works, stored hashed) is what changes it. An address that belongs to another
 * account gets no mail, and the page reads the same: nothing tells which emails have accounts.
 */
export class EmailChange {
  private readonly users: UserRepository;
  private readonly tokens: AccountTokenRepository;

  constructor(
    private readonly deps: {
      config: Config;
      db: Kysely<Database>;
      mailer: Mailer;
      logger: Logger;
      audit?: AuditTrail | undefined;
      /** Where changes are announced as user.email_changed (src/webhooks), in their transaction. */
      webhooks?: WebhookEvents | undefined;
    },
  ) {
    this.users = new UserRepository(deps.db);
    this.tokens = new AccountTokenRepository(deps.db);
  }

  async request(user: UserRow, input: string, locale: Locale): Promise<RequestOutcome> {
    const newEmail = normalizeEmail(input);
    if (!isValidEmail(newEmail)) return { kind: 'invalid' };
    if (newEmail.toLowerCase() === user.email.toLowerCase()) return { kind: 'same' };
    const recent = await this.tokens.countIssuedSince(
      user.id,
      CHANGE_EMAIL_PURPOSE,
      new Date(Date.now() - 60 * 60 * 1000),
    );
    if (recent >= CHANGE_EMAIL_REQUESTS_PER_HOUR) return { kind: 'limited' };

    const token = newOpaqueToken();
    const data: ChangeEmailData = { newEmail, passwordChangedAt: user.password_changed_at?.toISOString() ?? null };
    await this.tokens.issue({
      userId: user.id,
      purpose: CHANGE_EMAIL_PURPOSE,
      tokenHash: hashOpaqueToken(token),
      data,
      ttlMs: CHANGE_EMAIL_LINK_TTL_MS,
    });
    const taken = await this.users.findByEmail(newEmail);
    if (!taken) {
      await this.send({
        to: newEmail,
        template: 'email-change-confirm',
        locale,
        data: {
          email: user.email,
          newEmail,
          confirmUrl: `${this.deps.config.issuer}/account/email/confirm?token=${token}`,
          expiresInHours: 24,
        },
      });
    }
    await this.send({
      to: user.email,
      template: 'email-change-requested',
      locale,
      data: { email: user.email, newEmail, accountUrl: `${this.deps.config.issuer}/account` },
    });
    this.deps.logger.info({ event: 'account.email_change_requested', accountId: user.id }, 'email change requested');
    return { kind: 'sent' };
  }

  /** The pending new address of the user, if a link is out (shown on the "sent" page). */
  async pending(userId: string): Promise<string | undefined> {
    const row = await this.tokens.latestValid(userId, CHANGE_EMAIL_PURPOSE);
    return row ? accountTokenData<ChangeEmailData>(row).newEmail : undefined;
  }

  /** Whether a link is still good (GET shows a button; only the POST changes anything, as mail scanners open links). */
  async isValid(token: string): Promise<boolean> {
    return (await this.find(token)) !== undefined;
  }

  async confirm(token: string): Promise<ConfirmOutcome> {
    const found = await this.find(token);
    if (!found) return { kind: 'invalid' };
    const { row, data, previousEmail } = found;
    return this.deps.db.transaction().execute(async (trx) => {
      const tokens = new AccountTokenRepository(trx);
      if (!(await tokens.consume(row.id, CHANGE_EMAIL_PURPOSE))) return { kind: 'invalid' as const };
      const users = new UserRepository(trx);
      // Checked first: a failed unique insert would abort the whole transaction on PostgreSQL.
      const holder = await users.findByEmail(data.newEmail);
      if (holder && holder.id !== row.user_id) return { kind: 'taken' as const };
      await users.changeEmail(row.user_id, data.newEmail);
      // Reset links went to the old address: they must not outlive the change.
      await tokens.voidOutstanding(row.user_id, RESET_PURPOSE);
      await this.deps.webhooks?.emit(
        'user.email_changed',
        { user_id: row.user_id, email: data.newEmail, previous_email: previousEmail },
        trx,
      );
      this.deps.logger.info({ event: 'account.email_changed', accountId: row.user_id }, 'email changed');
      this.deps.audit?.record({
        type: 'email.changed',
        actor: { kind: 'user', id: row.user_id },
        subjectUserId: row.user_id,
        data: { newEmail: data.newEmail },
      });
      return { kind: 'changed' as const, newEmail: data.newEmail };
    });
  }

  private async find(token: string) {
    const found = await this.tokens.findValid(token, CHANGE_EMAIL_PURPOSE);
    if (!found) return undefined;
    const { row, owner } = found;
    const data = accountTokenData<ChangeEmailData>(row);
    if ((owner.passwordChangedAt?.toISOString() ?? null) !== data.passwordChangedAt) return undefined;
    return { row, data, previousEmail: owner.email };
  }

  private send(email: OutgoingEmail): Promise<void> {
    return enqueueQuietly(this.deps.mailer, this.deps.logger, email);
  }
}
