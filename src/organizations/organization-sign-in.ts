import type { Kysely } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import type { ReadAheadTaker } from '../storage/oidc-model-rows.ts';
import type { Database } from '../storage/schema.ts';
import { MembershipRepository } from './memberships.ts';
import { OrganizationAuthorizations } from './organization-authorizations.ts';
import { OrganizationChooser } from './organization-choice.ts';
import { OrganizationGrants } from './organization-grants.ts';
import { OrganizationTokens } from './organization-tokens.ts';
import { OrganizationRepository } from './organizations.ts';
import { RoleRepository } from './roles.ts';
import { isUpstream, SessionUpstreams, type Upstream } from './sign-in-methods.ts';

/** A person's linked upstream accounts, as federation keeps them (src/federation/federated-identities.ts). */
export interface LinkedIdentities {
  listForUser(userId: string): Promise<Array<{ provider: string; last_login_at: Date | null }>>;
}

export type OrganizationSignIn = ReturnType<typeof createOrganizationSignIn>;

/**
 * The parts of the organization of a sign-in that src/app.ts hands out: to oidc-provider (its
 * checks, grants and tokens), to the sign-in step, and to the purge timer.
 */
export function createOrganizationSignIn(options: {
  db: Kysely<Database>;
  logger: Logger;
  identities: LinkedIdentities;
  /** Milliseconds since the epoch: when organizations are active (tests move it). */
  now?: (() => number) | undefined;
  /** Rows a request read ahead with its token: a grant's organization (ORGANIZATION_GRANT_READ_AHEAD). */
  readAhead?: ReadAheadTaker | undefined;
}) {
  const { db, logger } = options;
  const now = () => new Date((options.now ?? Date.now)());
  const organizations = new OrganizationRepository(db);
  const memberships = new MembershipRepository(db);
  const grants = new OrganizationGrants(db, options.readAhead);
  const upstreams = new SessionUpstreams(db);
  const chooser = new OrganizationChooser({ organizations, memberships, now });
  /**
   * The provider of the account's latest upstream sign-in: asked right after a federated sign-in
   * (amr `fed`, which names no provider), it is the one just used.
   */
  const latestUpstream = async (accountId: string): Promise<Upstream | undefined> => {
    const linked = await options.identities.listForUser(accountId);
    const latest = linked
      .filter((identity) => isUpstream(identity.provider) && identity.last_login_at)
      .sort((a, b) => b.last_login_at!.getTime() - a.last_login_at!.getTime())[0];
    return latest && isUpstream(latest.provider) ? latest.provider : undefined;
  };
  return {
    chooser,
    grants,
    latestUpstream,
    authorizations: new OrganizationAuthorizations({ chooser, grants, upstreams, latestUpstream, logger }),
    tokens: new OrganizationTokens({ grants, organizations, memberships, roles: new RoleRepository(db), now }),
    async purgeExpired(): Promise<number> {
      return (await grants.purgeExpired()) + (await upstreams.purgeExpired());
    },
  };
}
