import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, FederatedIdentityTable } from '../storage/schema.ts';
import type { ProviderName } from './federation-settings.ts';
import type { UpstreamIdentity } from './upstream-identity.ts';

export type FederatedIdentityRow = Selectable<FederatedIdentityTable>;

/**
 * The links between upstream accounts and local users. An upstream account is found by its
 * (provider, realm, subject) key only; the email it carries is kept for display, never looked up.
 */
export class FederatedIdentities {
  constructor(private readonly db: Kysely<Database>) {}

  async find(
    identity: Pick<UpstreamIdentity, 'provider' | 'realm' | 'subject'>,
  ): Promise<FederatedIdentityRow | undefined> {
    return this.db
      .selectFrom('federated_identities')
      .selectAll()
      .where('provider', '=', identity.provider)
      .where('realm', '=', identity.realm)
      .where('subject', '=', identity.subject)
      .executeTakeFirst();
  }

  async listForUser(userId: string): Promise<FederatedIdentityRow[]> {
    return this.db
      .selectFrom('federated_identities')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
  }

  /**
   * Links the upstream account to the user. Returns undefined when that upstream account is
   * already linked (to anyone): one upstream account never signs in as two users.
   */
  async link(userId: string, identity: UpstreamIdentity): Promise<FederatedIdentityRow | undefined> {
    return this.db
      .insertInto('federated_identities')
      .values({
        id: randomUUID(),
        user_id: userId,
        provider: identity.provider,
        realm: identity.realm,
        subject: identity.subject,
        email: identity.email ?? null,
        email_verified: identity.emailVerified,
        name: identity.name ?? null,
        last_amr: JSON.stringify(identity.amr),
        last_acr: identity.acr ?? null,
        last_login_at: new Date(),
      })
      .onConflict((oc) => oc.columns(['provider', 'realm', 'subject']).doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  /** What the upstream said at this sign-in: shown on the account page, and how the person authenticated there. */
  async recordLogin(id: string, identity: UpstreamIdentity): Promise<void> {
    await this.db
      .updateTable('federated_identities')
      .set({
        email: identity.email ?? null,
        email_verified: identity.emailVerified,
        name: identity.name ?? null,
        last_amr: JSON.stringify(identity.amr),
        last_acr: identity.acr ?? null,
        last_login_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Removes one of the user's links; false when it is not theirs (or already gone). */
  async unlink(userId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('federated_identities')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async countForUser(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('federated_identities')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }
}

export function providerOf(row: FederatedIdentityRow): ProviderName {
  return row.provider as ProviderName;
}
