import type Router from '@koa/router';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import { InvitationCookies } from './invitation-cookies.ts';
import { type InvitationRouterDependencies, invitationRouter } from './invitation-router.ts';
import { InvitationStep, type InvitationStepDependencies } from './invitation-step.ts';
import { type AcceptanceHook, InvitationRepository } from './invitations.ts';
import { MembershipRepository } from './memberships.ts';
import { OrganizationRepository } from './organizations.ts';

type Shared = 'invitations' | 'cookies' | 'organizations' | 'memberships';

export interface InvitationPagesDependencies
  extends Omit<InvitationRouterDependencies, Shared>,
    Omit<InvitationStepDependencies, Shared | 'now' | 'logger' | 'users'> {
  db: Kysely<Database>;
  /** Run in each acceptance's transaction (the admins' notice, src/organizations/member-joined-notice.ts). */
  onAccepted?: AcceptanceHook | undefined;
  /** Where accepted invitations are announced as org.member_added (src/webhooks). */
  webhooks?: WebhookEvents | undefined;
}

/**
 * Invitations to a company: the page at ISSUER/invitations/<token> and the sign-in step that
 * accepts the invitation, sharing one repository and the cookies that carry it between them.
 */
export function invitationPages(deps: InvitationPagesDependencies): { step: InvitationStep; router: Router } {
  const invitations = new InvitationRepository(deps.db, deps.now, deps.onAccepted, deps.webhooks);
  const cookies = new InvitationCookies(deps.config.secure);
  const step = new InvitationStep({ ...deps, invitations, cookies });
  const router = invitationRouter({
    ...deps,
    invitations,
    cookies,
    organizations: new OrganizationRepository(deps.db),
    memberships: new MembershipRepository(deps.db),
  });
  return { step, router };
}
