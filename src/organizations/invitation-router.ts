import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { AccountSignIn } from '../account/account-sign-in.ts';
import type { Config } from '../config/config.ts';
import { bodyParser } from '../http/body-parser.ts';
import { csrfProtection, expiredFormPage } from '../http/csrf.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import { LinkTokenCookie } from '../http/link-token-cookie.ts';
import { brandPageForOrganization } from '../http/page-branding.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { formatInstant } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { personTimeZone } from '../users/time-zone.ts';
import type { UserRepository } from '../users/users.ts';
import { INVITATION_LANDING_PATH, type InvitationCookies, isInvitationMethod } from './invitation-cookies.ts';
import { homePortalName, homePortalUrl, type InvitationProblem, invitationProblem } from './invitation-landing.ts';
import { DEFAULT_INVITATION_TTL_MS, type Invitation, type InvitationRepository } from './invitations.ts';
import type { MembershipRepository } from './memberships.ts';
import type { OrganizationRepository } from './organizations.ts';
import { ADMIN_ROLE, MEMBER_ROLE } from './roles.ts';

export interface InvitationRouterDependencies {
  config: Pick<Config, 'issuer' | 'secure'>;
  provider: Pick<Provider, 'Client' | 'Session'>;
  pages: PageRenderer;
  logger: Logger;
  invitations: InvitationRepository;
  organizations: Pick<OrganizationRepository, 'findById'>;
  memberships: Pick<MembershipRepository, 'membership'>;
  users: Pick<UserRepository, 'findById' | 'findByEmail'>;
  cookies: InvitationCookies;
  /** The account page's authorization (account-sign-in.ts), which the invitation's sign-in rides. */
  signIn: Pick<AccountSignIn, 'start'>;
  /** The configured upstream providers (federation), whose buttons the page shows. */
  upstreamNames: () => readonly string[];
  now: () => number;
}

const startForm = z.object({ method: formFields.text() });

/**
 * The link of an invitation email, `ISSUER/invitations/<token>`, and the sign-in it leads to:
 *   GET /invitations/<token> → 303 /invitations, the token kept in a cookie (link-token-cookie.ts);
 *   GET /invitations: who invites the person, to which company and portal, with which roles, and
 *     the ways in: Google, Microsoft (those configured), and creating the account by hand, or
 *     signing in when the invited address already has an account. A link that cannot be used
 *     gets its own page: 404 unknown, 410 expired, revoked, used or the company unavailable.
 *   POST /invitations/start → a real authorization (the account page's client: Umbral redeems its
 *     code itself, so the sign-in can end here), the invitation carried in a cookie
 *     (invitation-cookies.ts) and accepted by the invitation step (invitation-step.ts);
 *   GET /invitations/landing (where that sign-in returns): the home portal, entered through a
 *     fresh authorization of its own (its initiate_login_uri), or the account page.
 *
 * Whether the invited address has an account is shown to whoever holds the link. That is the
 * address's owner: the link went only to that mailbox, carries 256 random bits, and answers for
 * that one address; offering "sign in" instead of a sign-up that could never finish (a sign-up
 * of a taken address verifies nothing) is what the owner needs. Nothing answers for any other
 * address, so the rule against enumeration stands.
 */
export function invitationRouter(deps: InvitationRouterDependencies): Router {
  const { pages, invitations } = deps;
  const now = () => new Date(deps.now());
  const link = new LinkTokenCookie({
    name: 'umbral.invitation-link',
    path: '/invitations',
    secure: deps.config.secure,
    linkTtlSeconds: DEFAULT_INVITATION_TTL_MS / 1000,
  });
  const router = new Router({ prefix: '/invitations' });
  // The invitation's token is in its cookie: the invitation page opens again from it.
  router.use(expiredFormPage(pages, () => '/invitations'));
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '4kb' }));
  router.use(csrfProtection({ issuer: deps.config.issuer, secure: deps.config.secure }));

  /** The page for a link that cannot be used, with a way forward. */
  async function renderInvalid(ctx: Context, problem: InvitationProblem, invitation: Invitation | undefined) {
    const portalUrl = invitation
      ? await homePortalUrl(deps.provider, deps.config.issuer, invitation.organization, invitation.row.email)
      : undefined;
    if (invitation) brandPageForOrganization(ctx, invitation.organization);
    await pages.render(
      ctx,
      'invitation-invalid',
      {
        problem,
        signedIn: false,
        organizationName: invitation?.organization.name,
        signInUrl: portalUrl ?? '/account',
      },
      problem === 'unknown' ? 404 : 410,
    );
  }

  async function renderInvitation(ctx: Context, invitation: Invitation, status = 200): Promise<void> {
    const locale = pages.localeOf(ctx);
    const { row, organization } = invitation;
    brandPageForOrganization(ctx, organization);
    const inviter = row.invited_by ? await deps.users.findById(row.invited_by) : undefined;
    const hasAccount = (await deps.users.findByEmail(row.email)) !== undefined;
    await pages.render(
      ctx,
      'invitation',
      {
        organizationName: organization.name,
        portalName: await homePortalName(deps.provider, organization),
        inviter: inviter ? { name: inviter.name ?? inviter.email, email: inviter.email } : undefined,
        email: row.email,
        roles: invitation.roles,
        knownRoles: [ADMIN_ROLE, MEMBER_ROLE],
        expiresAt: formatInstant(
          new Date(row.expires_at),
          locale,
          personTimeZone(undefined, ctx.get('accept-language')),
        ),
        providers: deps.upstreamNames(),
        hasAccount,
      },
      status,
    );
  }

  /** The invitation of this browser's link, or the page saying why it cannot be used (then undefined). */
  async function openInvitation(ctx: Context): Promise<Invitation | undefined> {
    const invitation = await invitations.findByToken(link.read(ctx));
    const problem = invitationProblem(invitation, now());
    if (!problem) return invitation;
    link.clear(ctx);
    deps.logger.info(
      { event: 'invitation.link_refused', problem, invitationId: invitation?.row.id },
      'invitation link cannot be used',
    );
    await renderInvalid(ctx, problem, invitation);
    return undefined;
  }

  // Where the sign-in started here returns (account-sign-in.ts, with this path allowed).
  router.get(INVITATION_LANDING_PATH.slice('/invitations'.length), async (ctx) => {
    const landing = deps.cookies.takeLanding(ctx);
    const session = await deps.provider.Session.get(ctx);
    if (!landing || !session.accountId || session.accountId !== landing.userId) return seeOther(ctx, '/account');
    link.clear(ctx);
    const organization = landing.organizationId ? await deps.organizations.findById(landing.organizationId) : undefined;
    if (landing.outcome !== 'joined') {
      // Signed in all the same: the page says why the company was not joined, and leads to the account.
      return pages.render(
        ctx,
        'invitation-invalid',
        { problem: landing.outcome, signedIn: true, organizationName: organization?.row.name, signInUrl: '/account' },
        landing.outcome === 'unknown' ? 404 : 410,
      );
    }
    const user = await deps.users.findById(landing.userId);
    const member = organization && user ? await deps.memberships.membership(organization.row.id, user.id) : undefined;
    if (!organization || !user || !member) return seeOther(ctx, '/account');
    const portal = await homePortalUrl(deps.provider, deps.config.issuer, organization.row, user.email);
    deps.logger.info(
      { event: 'invitation.landed', organizationId: organization.row.id, accountId: user.id, portal: !!portal },
      'invited member sent to the home portal',
    );
    seeOther(ctx, portal ?? '/account');
  });

  router.post('/start', async (ctx) => {
    const invitation = await openInvitation(ctx);
    if (!invitation) return;
    const { method } = readForm(ctx, startForm);
    const upstream = method === 'google' || method === 'microsoft';
    if (!isInvitationMethod(method) || (upstream && !deps.upstreamNames().includes(method))) {
      return renderInvitation(ctx, invitation, 400);
    }
    // A taken address signs in: its sign-up could never be verified.
    const taken = method === 'signup' && (await deps.users.findByEmail(invitation.row.email)) !== undefined;
    deps.cookies.start(ctx, { token: link.read(ctx), method: taken ? 'signin' : method });
    deps.logger.info(
      { event: 'invitation.sign_in_started', invitationId: invitation.row.id, method: taken ? 'signin' : method },
      'sign-in started from an invitation',
    );
    // prompt=login: a session of another account (or of this one) does not stand in for this sign-in.
    deps.signIn.start(ctx, {
      returnTo: INVITATION_LANDING_PATH,
      reauth: true,
      loginHint: invitation.row.email,
      locale: pages.localeOf(ctx),
    });
  });

  // Opening the link changes nothing: mail scanners open links too, and only the sign-in accepts.
  router.get('/', async (ctx) => {
    const invitation = await openInvitation(ctx);
    if (invitation) await renderInvitation(ctx, invitation);
  });

  router.get('/:token', async (ctx) => {
    link.takeFromPath(ctx, ctx.params['token'] ?? '');
  });

  return router;
}
