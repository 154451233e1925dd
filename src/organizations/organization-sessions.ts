import { type Kysely, sql, type Transaction } from 'kysely';
import type Provider from 'oidc-provider';
import type { Logger } from '../logging/logger.ts';
import { BackchannelDeliveries, revokeGrants } from '../sessions/backchannel-deliveries.ts';
import type { Database } from '../storage/schema.ts';

/**
 * Which portals an organization's change reaches: those registered with `organization: required`
 * (a company that ends or is suspended), or those with `optional` too (a member who is removed:
 * an optional portal shows their organization, so it must hear that they left it).
 */
export type OrganizationPortals = 'required' | 'required-or-optional';

/** A portal to tell, by back-channel logout, that this person's session there ended. */
export interface PortalLogout {
  accountId: string;
  clientId: string;
  sid: string | undefined;
}

type Db = Kysely<Database> | Transaction<Database>;

interface SessionPayload {
  authorizations?: Record<string, { sid?: string; grantId?: string }>;
}

/**
 * Ends people's sessions at an organization's portals, and only there: for each of their
 * sessions and each portal in it that requires (or uses) an organization, the portal's grant is
 * revoked with its tokens and the portal is taken out of the session, as oidc-provider's own
 * logout from one client does; the session itself stays, so the person is still signed in to
 * Umbral and to the portals that do not depend on the organization. A portal that comes back
 * starts a new authorization, where the organization's status decides.
 *
 * `takeOut` only touches the database it is given (it may be the caller's transaction, which
 * commits the change together with the mark that says it was made); `deliver` sends the
 * back-channel logouts afterwards, in the background, through oidc-provider. The portals are
 * read from the `clients` table's metadata (`organization`), as stored.
 */
export class OrganizationSessions {
  private readonly backchannel: BackchannelDeliveries;

  constructor(private readonly deps: { provider: () => Promise<Provider>; logger: Logger }) {
    this.backchannel = new BackchannelDeliveries(deps.provider, deps.logger);
  }

  async takeOut(
    db: Db,
    who: { organizationId: string } | { userIds: string[] },
    portals: OrganizationPortals,
  ): Promise<PortalLogout[]> {
    const levels = portals === 'required' ? ['required'] : ['required', 'optional'];
    const clients = await db
      .selectFrom('clients')
      .select('client_id')
      .where(sql<string>`metadata->>'organization'`, 'in', levels)
      .execute();
    const portalIds = new Set(clients.map((c) => c.client_id));
    if (!portalIds.size) return [];
    if ('userIds' in who && !who.userIds.length) return [];
    const sessions = await db
      .selectFrom('oidc_models')
      .select(['id', 'account_id', 'payload'])
      .where('model', '=', 'Session')
      .where('account_id', 'is not', null)
      .where((eb) =>
        'userIds' in who
          ? eb('account_id', 'in', who.userIds)
          : eb(
              'account_id',
              'in',
              eb
                .selectFrom('organization_memberships')
                .select('user_id')
                .where('organization_id', '=', who.organizationId)
                .where('removed_at', 'is', null),
            ),
      )
      .execute();
    const logouts: PortalLogout[] = [];
    const grantIds: string[] = [];
    for (const session of sessions) {
      const payload = (
        typeof session.payload === 'string' ? JSON.parse(session.payload) : session.payload
      ) as SessionPayload;
      for (const [clientId, authorization] of Object.entries(payload.authorizations ?? {})) {
        if (!portalIds.has(clientId)) continue;
        logouts.push({ accountId: session.account_id!, clientId, sid: authorization.sid });
        if (authorization.grantId) grantIds.push(authorization.grantId);
        await db
          .updateTable('oidc_models')
          .set({
            payload: sql`jsonb_set(payload, '{authorizations}', coalesce(payload->'authorizations', '{}'::jsonb) - ${clientId}::text)`,
          })
          .where('model', '=', 'Session')
          .where('id', '=', session.id)
          .execute();
      }
    }
    await revokeGrants(db, grantIds);
    if (logouts.length) {
      this.deps.logger.info(
        { event: 'organization.portal_sessions_ended', portalSessions: logouts.length },
        "sessions at an organization's portals ended",
      );
    }
    return logouts;
  }

  /** Tells each portal, by back-channel logout when it registered for it; in the background (see `settled`). */
  deliver(logouts: PortalLogout[]): void {
    for (const { accountId, clientId, sid } of logouts) this.backchannel.send(accountId, clientId, sid);
  }

  /** Waits for back-channel deliveries still under way (the CLI before it exits, shutdown, tests). */
  async settled(): Promise<void> {
    await this.backchannel.settled();
  }
}
