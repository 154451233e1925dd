import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { ReadAheadTaker } from '../storage/oidc-model-rows.ts';
import type { Database } from '../storage/schema.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import { AccountMemberships } from './account-memberships.ts';
import { ContractScheduler } from './contract-scheduler.ts';
import { OrganizationMail } from './organization-mail.ts';
import { OrganizationSessions } from './organization-sessions.ts';
import { createOrganizationSignIn, type LinkedIdentities } from './organization-sign-in.ts';
import { OrganizationStep } from './organization-step.ts';
import { OrganizationRepository } from './organizations.ts';
import { UpstreamJoining } from './upstream-joining.ts';

/**
 * The companies capability as src/app.ts wires it: the organization of each authorization (for
 * oidc-provider, built before it), and, once the provider exists, the sign-in step and the
 * contract scheduler; the account page's list and the joining by upstream tenant need neither.
 */
/** A company's capability as src/app.ts wires it. */
export type Companies = ReturnType<typeof createCompanies>;

export function createCompanies(deps: {
  config: Config;
  db: Kysely<Database>;
  logger: Logger;
  identities: LinkedIdentities;
  now?: (() => number) | undefined;
  /** Where members joining and leaving and contracts starting and ending are announced (src/webhooks). */
  webhooks?: WebhookEvents | undefined;
  /** Rows a request read ahead with its token (src/organizations/organization-grants.ts). */
  readAhead?: ReadAheadTaker | undefined;
}) {
  const { config, db, logger, now, webhooks } = deps;
  const signIn = createOrganizationSignIn({ db, logger, identities: deps.identities, now, readAhead: deps.readAhead });
  return {
    signIn,
    accountMemberships: new AccountMemberships(db, now),
    upstreamJoining: new UpstreamJoining({ db, logger, now, webhooks }),
    /** Chooses and checks the company of a sign-in (the picker, its policy). */
    organizationStep: (provider: Provider) =>
      new OrganizationStep({
        config,
        provider,
        chooser: signIn.chooser,
        grants: signIn.grants,
        latestUpstream: signIn.latestUpstream,
        organizations: new OrganizationRepository(db),
        logger,
      }),
    /** Contract dates: welcome, end warning and end, once across every process (not started). */
    contracts: (provider: Provider) =>
      new ContractScheduler({
        db,
        logger,
        mail: new OrganizationMail({ issuer: config.issuer, productName: config.productName, now }),
        sessions: new OrganizationSessions({ provider: async () => provider, logger }),
        endWarningDays: config.orgEndWarningDays,
        now,
        webhooks,
      }),
  };
}
