import { CompiledQuery, type Kysely, sql } from 'kysely';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';

/** Longest stored User-Agent: enough to name the browser, not a place to park data. */
const MAX_USER_AGENT = 512;

/** Last-seen is written at most this often per session, so busy sessions cost no extra writes. */
const TOUCH_EVERY_SECONDS = 60;

/**
 * One upsert per sign-in, written out once. A re-authentication as someone else reuses no uid, but
 * a row never changes hands silently; an unchanged sighting within the minute writes nothing.
 */
const RECORD_SIGHTING = `
  insert into session_activity (session_uid, account_id, user_agent, ip, last_seen_at)
  values ($1, $2, $3, $4, $5)
  on conflict (session_uid) do update
     set account_id = excluded.account_id, user_agent = excluded.user_agent, ip = excluded.ip,
         last_seen_at = excluded.last_seen_at
   where session_activity.last_seen_at < now() - make_interval(secs => ${TOUCH_EVERY_SECONDS})
      or session_activity.account_id <> excluded.account_id
      or session_activity.ip is distinct from excluded.ip`;

export interface SessionSighting {
  sessionUid: string;
  accountId: string;
  userAgent: string | undefined;
  ip: string | undefined;
}

/**
 * Where and when each browser session was last seen (device, address): what the account page
 * lists. Written when a session signs in or is used by a portal or the account page.
 */
export class SessionActivity {
  /** What this process last wrote per session, so a redirect that would change nothing sends no statement. */
  readonly #written = new Map<string, { accountId: string; ip: string | null; at: number }>();

  constructor(private readonly db: Kysely<Database>) {}

  /** Records the device and address of each session at every authorization, as portals see it. */
  recordAuthorizations(provider: Provider, logger: Logger): void {
    provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
      const session = ctx.oidc.session;
      if (!session?.accountId) return;
      this.record({
        sessionUid: session.uid,
        accountId: session.accountId,
        userAgent: ctx.get('user-agent') || undefined,
        ip: ctx.ip,
      }).catch((error: unknown) => logger.warn({ err: error }, 'could not record session activity'));
    });
  }

  async record(sighting: SessionSighting): Promise<void> {
    const userAgent = sighting.userAgent?.slice(0, MAX_USER_AGENT) ?? null;
    const ip = sighting.ip ?? null;
    const last = this.#written.get(sighting.sessionUid);
    const now = Date.now();
    // The statement below would write nothing either (the same rule, seen from here).
    if (last && last.accountId === sighting.accountId && last.ip === ip && now - last.at < TOUCH_EVERY_SECONDS * 1000) {
      return;
    }
    await this.db.executeQuery(
      CompiledQuery.raw(RECORD_SIGHTING, [sighting.sessionUid, sighting.accountId, userAgent, ip, new Date(now)]),
    );
    if (this.#written.size >= 10_000) this.#written.clear();
    this.#written.set(sighting.sessionUid, { accountId: sighting.accountId, ip, at: now });
  }

  async forget(sessionUids: string[]): Promise<void> {
    if (sessionUids.length)
      await this.db.deleteFrom('session_activity').where('session_uid', 'in', sessionUids).execute();
  }
}

/** Activity rows whose session no longer exists (expired, ended elsewhere) and expired end notices. */
export async function purgeSessionLeftovers(db: Kysely<Database>): Promise<number> {
  const orphans = await db
    .deleteFrom('session_activity')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('oidc_models')
            .select(sql`1`.as('one'))
            .where('oidc_models.model', '=', 'Session')
            .whereRef('oidc_models.uid', '=', 'session_activity.session_uid'),
        ),
      ),
    )
    // A session row is written when the sign-in completes, a moment after the activity row.
    .where('created_at', '<', sql<Date>`now() - interval '1 hour'`)
    .executeTakeFirst();
  const notices = await db.deleteFrom('ended_sessions').where('expires_at', '<', new Date()).executeTakeFirst();
  return Number(orphans.numDeletedRows) + Number(notices.numDeletedRows);
}
