import Bowser from 'bowser';
import { type Kysely, sql } from 'kysely';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID } from '../account/account-client.ts';
import type { Database } from '../storage/schema.ts';

export interface ActiveSession {
  uid: string;
  /** Browser and operating system, from the User-Agent ("Chrome", "Windows"); undefined when unknown. */
  browser: string | undefined;
  os: string | undefined;
  /** The address it was last seen from (no geolocation database is shipped). */
  ip: string | undefined;
  signedInAt: Date | undefined;
  lastSeenAt: Date | undefined;
  /** The portals this session signed in to, by name. */
  portals: string[];
}

/** The user's live browser sessions, most recently seen first: what the account page lists. */
export class SessionDirectory {
  constructor(private readonly deps: { db: Kysely<Database>; provider: Provider }) {}

  async list(accountId: string): Promise<ActiveSession[]> {
    const rows = await this.deps.db
      .selectFrom('oidc_models')
      .leftJoin('session_activity', 'session_activity.session_uid', 'oidc_models.uid')
      .select([
        'oidc_models.uid',
        'oidc_models.payload',
        'session_activity.user_agent',
        'session_activity.ip',
        'session_activity.last_seen_at',
      ])
      .where('oidc_models.model', '=', 'Session')
      .where('oidc_models.account_id', '=', accountId)
      .where((eb) =>
        eb.or([eb('oidc_models.expires_at', 'is', null), eb('oidc_models.expires_at', '>', sql<Date>`now()`)]),
      )
      .execute();
    const sessions = await Promise.all(
      rows
        .filter((row) => row.uid)
        .map(async (row) => {
          const payload = row.payload as { loginTs?: number; authorizations?: Record<string, unknown> };
          const agent = row.user_agent ? Bowser.parse(row.user_agent) : undefined;
          const signedInAt = payload.loginTs ? new Date(payload.loginTs * 1000) : undefined;
          return {
            uid: row.uid!,
            browser: agent?.browser.name || undefined,
            os: agent?.os.name || undefined,
            ip: row.ip ?? undefined,
            signedInAt,
            lastSeenAt: row.last_seen_at ?? signedInAt,
            portals: await this.portalNames(Object.keys(payload.authorizations ?? {})),
          };
        }),
    );
    return sessions.sort((a, b) => (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0));
  }

  private async portalNames(clientIds: string[]): Promise<string[]> {
    const names: string[] = [];
    for (const clientId of clientIds) {
      if (clientId === ACCOUNT_CLIENT_ID) continue;
      const client = await this.deps.provider.Client.find(clientId);
      if (client) names.push(client.clientName ?? clientId);
    }
    return names;
  }
}
