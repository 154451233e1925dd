import { type Kysely, sql } from 'kysely';
import type Provider from 'oidc-provider';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';

/**
 * Back-channel logouts sent in the background, so ending a session never waits on a portal, with
 * `settled()` for whoever must wait (the CLI before it exits, shutdown, tests).
 */
export class BackchannelDeliveries {
  private readonly deliveries = new Set<Promise<void>>();

  constructor(
    private readonly provider: () => Promise<Provider>,
    private readonly logger: Logger,
  ) {}

  /** Tells the portal that `accountId`'s session `sid` ended, if it registered a back-channel logout URI. */
  send(accountId: string, clientId: string, sid: string | undefined): void {
    const { logger } = this;
    const delivery = (async () => {
      const client = await (await this.provider()).Client.find(clientId);
      if (!client?.backchannelLogoutUri) return;
      // Public in oidc-provider (end_session uses it), missing from its type definitions.
      const notify = client['backchannelLogout'] as (sub: string, sid: string | undefined) => Promise<void>;
      await notify.call(client, accountId, sid);
      logger.info({ event: 'backchannel.delivered', clientId }, 'back-channel logout delivered');
    })().catch((error: unknown) => {
      logger.warn({ event: 'backchannel.failed', clientId, err: error }, 'back-channel logout failed');
    });
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  async settled(): Promise<void> {
    while (this.deliveries.size) await Promise.allSettled([...this.deliveries]);
  }
}

/**
 * Deletes grants with every code and token issued under them. A sign-in still open under one of
 * them (prompt=login, or a password reset started from it) is not deleted but unbound from the
 * grant and its session: the browser that owns it goes on, signing in afresh, instead of landing
 * on "session not found" (src/password-reset/forgot-password-step.ts).
 */
export async function revokeGrants(db: Kysely<Database>, grantIds: string[]): Promise<void> {
  if (!grantIds.length) return;
  await db
    .updateTable('oidc_models')
    .set({ payload: sql`payload - 'grantId' - 'session'`, grant_id: null })
    .where('model', '=', 'Interaction')
    .where('grant_id', 'in', grantIds)
    .execute();
  await db
    .deleteFrom('oidc_models')
    .where((eb) =>
      eb.or([eb('grant_id', 'in', grantIds), eb.and([eb('model', '=', 'Grant'), eb('id', 'in', grantIds)])]),
    )
    .execute();
}
