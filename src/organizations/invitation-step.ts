import type { Context } from 'koa';
import {
  type EmailVerificationStart,
  type FirstFactor,
  type InteractionDetails,
  isSigningIn,
  outcome,
  type SignInStep,
  type SignUpAddress,
  type StepOutcome,
  type UpstreamAccount,
  type UpstreamAdmission,
  type UpstreamSignInStart,
} from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { UserRow } from '../storage/schema.ts';
import type { UserRepository } from '../users/users.ts';
import type { CarriedInvitation, InvitationCookies } from './invitation-cookies.ts';
import { invitationProblem, sameEmail } from './invitation-landing.ts';
import type { Invitation, InvitationRepository } from './invitations.ts';
import { OrganizationInputError } from './organization-errors.ts';

export interface InvitationStepDependencies {
  logger: Logger;
  invitations: InvitationRepository;
  users: Pick<UserRepository, 'findById' | 'findByEmail'>;
  cookies: InvitationCookies;
  /** An account whose email is unproven verifies it before it joins. */
  verification: EmailVerificationStart;
  /** "Continuar con Google / Microsoft" from the invitation page (federation-step.ts). */
  upstream: UpstreamSignInStart;
  /**
   * The client of the authorization the invitation page starts (the account page's): another
   * portal's sign-in in this browser never picks up an invitation that was not started for it.
   */
  clientId: string;
  now: () => number;
}

/**
 * Accepting an invitation in the sign-in. The invitation page (invitation-router.ts) starts a
 * real authorization carrying the invitation in a cookie (invitation-cookies.ts); this step
 * - `resume`, on the interaction's first page: takes the way in the person chose (the sign-up
 *   page, Google or Microsoft; the login page for "Iniciar sesión");
 * - `fixedEmail` (SignUpAddress): the sign-up creates the invited address, whatever is posted;
 * - `admit` (UpstreamAdmission): an upstream account whose email is not the invited one is refused
 *   before any account is created or linked, on a page offering the other ways in;
 * - `enter`, once every factor passed: the signed-in account must have the invited address,
 *   verified (else the email verification first); then the membership is made, once
 *   (InvitationRepository.accept), and the landing (invitation-router.ts) knows it.
 * Every rule of the flows it leads into applies as ever: it only picks the page and says no.
 */
export class InvitationStep implements SignInStep, SignUpAddress, UpstreamAdmission {
  readonly name = 'invitation';

  constructor(private readonly deps: InvitationStepDependencies) {}

  async resume(ctx: Context, details: InteractionDetails): Promise<StepOutcome | undefined> {
    if (!isSigningIn(details) || details.params['client_id'] !== this.deps.clientId) return undefined;
    const claimed = this.deps.cookies.claim(ctx, details.uid);
    if (!claimed?.fresh) return undefined;
    const invitation = await this.usable(claimed.carried);
    // Gone meanwhile: the login page, and `enter` says why at the landing.
    if (!invitation) return undefined;
    const { method } = claimed.carried;
    if (method === 'signup') return outcome.redirect(`/interaction/${details.uid}/signup`);
    if ((method === 'google' || method === 'microsoft') && this.deps.upstream.names().includes(method)) {
      return this.deps.upstream.start(ctx, details, method, invitation.row.email);
    }
    return undefined;
  }

  async fixedEmail(ctx: Context, details: InteractionDetails): Promise<string | undefined> {
    const carried = this.deps.cookies.bound(ctx, details.uid);
    if (!carried) return undefined;
    return (await this.deps.invitations.findByToken(carried.token))?.row.email;
  }

  async admit(ctx: Context, details: InteractionDetails, account: UpstreamAccount): Promise<StepOutcome | undefined> {
    const carried = this.deps.cookies.bound(ctx, details.uid);
    const invitation = carried ? await this.usable(carried) : undefined;
    // No email at all is federation's own refusal (email_missing).
    if (!invitation || !account.email || sameEmail(account.email, invitation.row.email)) return undefined;
    this.deps.logger.info(
      {
        event: 'invitation.refused_other_email',
        uid: details.uid,
        invitationId: invitation.row.id,
        via: account.provider,
      },
      'upstream account of another address refused for an invitation',
    );
    return this.refusal(details, invitation, account.email, account.provider);
  }

  async enter(ctx: Context, details: InteractionDetails, login: FirstFactor): Promise<FirstFactor | StepOutcome> {
    const carried = this.deps.cookies.bound(ctx, details.uid);
    if (!carried) return login;
    const user = await this.deps.users.findById(login.accountId);
    if (!user) return login;
    const invitation = await this.deps.invitations.findByToken(carried.token);
    const problem = invitationProblem(invitation, new Date(this.deps.now()));
    if (problem && !(problem === 'accepted' && invitation?.row.accepted_by === user.id)) {
      // The sign-in itself holds; the landing says why the invitation did not.
      return this.unusable(ctx, details, login, user, invitation, problem);
    }
    if (!invitation) return login; // (for the type checker: `problem` covers it)
    if (!sameEmail(user.email, invitation.row.email)) {
      this.deps.logger.info(
        { event: 'invitation.refused_other_account', uid: details.uid, invitationId: invitation.row.id },
        'signed in with another account than the invited one',
      );
      return this.refusal(details, invitation, user.email, undefined);
    }
    if (!user.email_verified) {
      // The invited address must be proven by the account too; the login comes back here verified.
      return this.deps.verification.begin(ctx, details, {
        user,
        typedEmail: user.email,
        reason: 'login',
        amr: login.amr,
      });
    }
    if (!problem) {
      try {
        await this.deps.invitations.accept(carried.token, user.id);
      } catch (error) {
        if (!(error instanceof OrganizationInputError)) throw error;
        // Accepted, revoked or expired in the meantime (a second tab): the current state decides.
        const now = await this.deps.invitations.findByToken(carried.token);
        const after = invitationProblem(now, new Date(this.deps.now()));
        if (!(after === 'accepted' && now?.row.accepted_by === user.id)) {
          return this.unusable(ctx, details, login, user, now, after ?? 'unknown');
        }
      }
    }
    this.deps.cookies.drop(ctx, details.uid);
    this.deps.cookies.land(ctx, { userId: user.id, organizationId: invitation.organization.id, outcome: 'joined' });
    this.deps.logger.info(
      {
        event: problem ? 'invitation.already_joined' : 'invitation.accepted',
        uid: details.uid,
        invitationId: invitation.row.id,
        organizationId: invitation.organization.id,
        accountId: user.id,
      },
      problem ? 'invitation accepted earlier by this account' : 'invitation accepted',
    );
    // The sign-in that accepts an invitation is the new member's first at that company (its metrics, last sign-in).
    return { ...login, organizationId: login.organizationId ?? invitation.organization.id };
  }

  /** The invitation, while it can still be accepted. */
  private async usable(carried: CarriedInvitation): Promise<Invitation | undefined> {
    const invitation = await this.deps.invitations.findByToken(carried.token);
    return invitationProblem(invitation, new Date(this.deps.now())) ? undefined : invitation;
  }

  private unusable(
    ctx: Context,
    details: InteractionDetails,
    login: FirstFactor,
    user: UserRow,
    invitation: Invitation | undefined,
    problem: NonNullable<ReturnType<typeof invitationProblem>>,
  ): FirstFactor {
    this.deps.cookies.drop(ctx, details.uid);
    this.deps.cookies.land(ctx, { userId: user.id, organizationId: invitation?.organization.id, outcome: problem });
    this.deps.logger.info(
      { event: 'invitation.unusable', uid: details.uid, invitationId: invitation?.row.id, problem },
      'signed in, but the invitation could not be accepted',
    );
    return login;
  }

  /**
   * "This is not the invited account": who signed in, whom the invitation is for, and the other
   * ways in, all inside this interaction (so every rule of the login applies to them). The
   * invited address's owner may learn here whether it has an account (sign in, or create it): see
   * invitation-router.ts on why that is theirs to know.
   */
  private async refusal(
    details: InteractionDetails,
    invitation: Invitation,
    signedInEmail: string,
    provider: string | undefined,
  ): Promise<StepOutcome> {
    const hasAccount = (await this.deps.users.findByEmail(invitation.row.email)) !== undefined;
    return outcome.page(
      'invitation-refused',
      {
        uid: details.uid,
        organizationName: invitation.organization.name,
        invitedEmail: invitation.row.email,
        signedInEmail,
        provider,
        hasAccount,
      },
      403,
    );
  }
}
