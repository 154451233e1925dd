import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import { type AuditActor, type AuditTrail, NO_AUDIT } from '../audit/audit-event.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { BackchannelDeliveries, revokeGrants } from './backchannel-deliveries.ts';
import { SessionActivity } from './session-activity.ts';

/** Why a session was ended; its browser is told on its next visit (see ended-session-notice.ts). */
export type EndReason = 'signed_in_elsewhere' | 'signed_out_remotely' | 'password_changed' | 'ended_by_administrator';

type ProviderSession = NonNullable<Awaited<ReturnType<Provider['Session']['findByUid']>>>;

export function cookieHash(sessionCookieValue: string): string {
  return createHash('sha256').update(sessionCookieValue).digest('base64url');
}

/**
 * Ends browser sessions on the user's behalf (sign out a device, one session per user, a
 * password change): the session is destroyed, the grants its portals received in it are
 * revoked with their tokens, and every portal registered for back-channel logout is told.
 * Deliveries run in the background so a slow portal never holds a sign-in; `settled()` waits.
 */
export class SessionTerminator {
  private readonly activity: SessionActivity;
  private readonly backchannel: BackchannelDeliveries;

  constructor(private readonly deps: { provider: Provider; db: Kysely<Database>; logger: Logger; audit?: AuditTrail }) {
    this.activity = new SessionActivity(deps.db);
    this.backchannel = new BackchannelDeliveries(async () => deps.provider, deps.logger);
  }

  /**
   * Ends one session of `accountId` by its uid; false when there is no such session of theirs.
   * `actor` is who ended it, for the audit log, when not the person themselves (an operator).
   */
  async endByUid(accountId: string, sessionUid: string, reason: EndReason, actor?: AuditActor): Promise<boolean> {
    const session = await this.deps.provider.Session.findByUid(sessionUid);
    if (!session || session.accountId !== accountId) return false;
    await this.end(session, reason, actor);
    return true;
  }

  /** Ends every session of `accountId` except the one with uid `keepUid` (the browser asking). */
  async endOthers(
    accountId: string,
    keepUid: string | undefined,
    reason: EndReason,
    actor?: AuditActor,
  ): Promise<number> {
    const rows = await this.deps.db
      .selectFrom('oidc_models')
      .select('uid')
      .where('model', '=', 'Session')
      .where('account_id', '=', accountId)
      .execute();
    let ended = 0;
    for (const { uid } of rows) {
      if (!uid || uid === keepUid) continue;
      if (await this.endByUid(accountId, uid, reason, actor)) ended += 1;
    }
    return ended;
  }

  /** Waits for back-channel deliveries still under way (tests, shutdown). */
  async settled(): Promise<void> {
    await this.backchannel.settled();
  }

  private async end(session: ProviderSession, reason: EndReason, actor: AuditActor | undefined): Promise<void> {
    const { db, logger } = this.deps;
    const accountId = session.accountId!;
    const authorizations = Object.entries(session.authorizations ?? {});
    const grantIds = authorizations
      .map(([, authorization]) => authorization.grantId)
      .filter((id): id is string => !!id);
    await revokeGrants(db, grantIds);
    await session.destroy();
    await db
      .insertInto('ended_sessions')
      .values({ cookie_hash: cookieHash(session.jti), reason, expires_at: new Date(session.exp * 1000) })
      .onConflict((oc) => oc.column('cookie_hash').doUpdateSet({ reason }))
      .execute();
    await this.activity.forget([session.uid]);
    logger.info({ event: 'session.ended', reason, accountId, portals: authorizations.length }, 'session ended');
    (this.deps.audit ?? NO_AUDIT).record({
      type: 'session.ended',
      // A new sign-in ending the others is the single-session policy's doing; the rest, the person's.
      actor: actor ?? (reason === 'signed_in_elsewhere' ? { kind: 'system' } : { kind: 'user', id: accountId }),
      subjectUserId: accountId,
      data: { reason, sessionUid: session.uid, portals: authorizations.map(([clientId]) => clientId) },
    });

    for (const [clientId] of authorizations) this.backchannel.send(accountId, clientId, session.sidFor(clientId));
  }
}
