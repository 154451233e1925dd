import type { AuditActor, AuditOrigin } from '../audit/audit-event.ts';
import { DEFAULT_INVITATION_TTL_MS, InvitationRepository } from '../organizations/invitations.ts';
import { MemberAdministration } from '../organizations/member-administration.ts';
import { MembershipRepository } from '../organizations/memberships.ts';
import { OrganizationMail } from '../organizations/organization-mail.ts';
import { OrganizationSessions } from '../organizations/organization-sessions.ts';
import { OrganizationRepository } from '../organizations/organizations.ts';
import { MEMBER_ROLE, parseRoleName, RoleRepository } from '../organizations/roles.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { queuedWebhookEvents } from '../webhooks/webhook-event-queue.ts';
import type { RegisterRoutes } from './admin-api.ts';
import type { AdminCaller } from './admin-caller.ts';
import {
  asOrganizationProblem,
  InvitationSchema,
  invitationJson,
  MemberSchema,
  memberJson,
  OrganizationParams,
  parsedField,
} from './organization-json.ts';
import { pageInMemory, pageOf, pageQuery } from './pagination.ts';
import { Problem } from './problem.ts';
import { z } from './zod.ts';

const TAG = 'Organization members and invitations';
const MAX_INVITATION_SECONDS = 30 * 86_400;

const MemberParams = OrganizationParams.extend({ user_id: z.string().min(1).max(100) });
const InvitationParams = OrganizationParams.extend({ invitation_id: z.string().min(1).max(100) });
const roleList = z.array(z.string().min(1).max(40)).min(1).max(20);

/**
 * Members and invitations of an organization (what `umbral orgs members|remove-member|invite|
 * revoke-invitation` does), for operators' clients and for the organization's own admins.
 */
export const registerOrganizationMembersRoutes: RegisterRoutes = (api, options) => {
  const { db } = options;
  const orgs = new OrganizationRepository(db);
  // Members removed here are announced (org.member_removed); the servers' workers deliver them.
  const webhooks = queuedWebhookEvents(db, options.logger);
  const memberships = new MembershipRepository(db, webhooks);
  const invitations = new InvitationRepository(db, options.now, undefined, webhooks);
  const roles = new RoleRepository(db);
  const sessions = new OrganizationSessions({ provider: async () => options.provider, logger: options.logger });
  const mail = new OrganizationMail({
    issuer: options.config.issuer,
    productName: options.config.productName,
    now: options.now,
  });
  // The code path of `umbral orgs invite|remove-member` and of the company console at /org.
  const admin = new MemberAdministration({ db, mail, sessions, now: options.now, webhooks });
  const organization = async (id: string) => {
    const org = await orgs.findById(id);
    if (!org) throw new Problem('not_found', `no organization with id ${id}`);
    return org;
  };
  const record = (
    type: string,
    organizationId: string,
    request: { actor: AuditActor; origin: AuditOrigin },
    data: Record<string, unknown>,
    subjectUserId?: string,
  ) => options.audit.record({ type, actor: request.actor, ...request.origin, organizationId, subjectUserId, data });
  const checkedRoles = async (names: string[]) =>
    asOrganizationProblem(
      () => roles.assertExist(names.map((name, i) => parsedField(`roles/${i}`, () => parseRoleName(name)))),
      'roles',
    );

  api.route({
    method: 'get',
    path: '/organizations/{organization_id}/members',
    operationId: 'listOrganizationMembers',
    summary: "An organization's members, with their roles",
    tag: TAG,
    scope: 'orgs:read',
    organizationParam: 'organization_id',
    params: OrganizationParams,
    query: z.object(pageQuery),
    responses: { 200: { description: 'Current members, by user id.', schema: pageOf(MemberSchema, 'MemberPage') } },
    handler: async ({ params, query }) => {
      const org = await organization(params.organization_id);
      const members = (await memberships.members(org.row.id)).map(memberJson);
      return { status: 200, body: pageInMemory(members, (m) => m.user_id, query) };
    },
  });

  api.route({
    method: 'put',
    path: '/organizations/{organization_id}/members/{user_id}/roles',
    operationId: 'setOrganizationMemberRoles',
    summary: "Replace a member's roles",
    description: 'The last admin of an active organization keeps the admin role.',
    tag: TAG,
    scope: 'orgs:write',
    organizationParam: 'organization_id',
    params: MemberParams,
    body: z.strictObject({ roles: roleList }).openapi('MemberRoles'),
    responses: { 200: { description: 'The member now.', schema: MemberSchema } },
    handler: async (request) => {
      const org = await organization(request.params.organization_id);
      const before = await memberships.membership(org.row.id, request.params.user_id);
      if (!before) throw new Problem('not_found', 'that person is not a member of this organization');
      const next = await checkedRoles(request.body.roles);
      await asOrganizationProblem(() => admin.setRoles(org.row, request.params.user_id, next), 'roles');
      record(
        'org.member_roles_changed',
        org.row.id,
        request,
        { before: before.roles, after: next },
        request.params.user_id,
      );
      const member = (await memberships.members(org.row.id)).find((m) => m.userId === request.params.user_id)!;
      return { status: 200, body: memberJson(member) };
    },
  });

  api.route({
    method: 'delete',
    path: '/organizations/{organization_id}/members/{user_id}',
    operationId: 'removeOrganizationMember',
    summary: 'Remove a member (their sessions at organization portals end)',
    tag: TAG,
    scope: 'orgs:write',
    organizationParam: 'organization_id',
    params: MemberParams,
    responses: { 204: { description: 'Removed.' } },
    handler: async (request) => {
      const org = await organization(request.params.organization_id);
      const { user_id: userId } = request.params;
      if (!(await memberships.membership(org.row.id, userId))) {
        throw new Problem('not_found', 'that person is not a member of this organization');
      }
      const portalSessions = await asOrganizationProblem(() => admin.exclude(org.row, userId));
      record('org.member_removed', org.row.id, request, { portalSessions }, userId);
      return { status: 204 };
    },
  });

  api.route({
    method: 'get',
    path: '/organizations/{organization_id}/invitations',
    operationId: 'listOrganizationInvitations',
    summary: 'Pending invitations',
    tag: TAG,
    scope: 'orgs:read',
    organizationParam: 'organization_id',
    params: OrganizationParams,
    query: z.object(pageQuery),
    responses: {
      200: { description: 'Pending invitations, by id.', schema: pageOf(InvitationSchema, 'InvitationPage') },
    },
    handler: async ({ params, query }) => {
      const org = await organization(params.organization_id);
      const pending = (await invitations.pending(org.row.id)).map(invitationJson);
      return { status: 200, body: pageInMemory(pending, (i) => i.id, query) };
    },
  });

  api.route({
    method: 'post',
    path: '/organizations/{organization_id}/invitations',
    operationId: 'inviteToOrganization',
    summary: 'Invite someone (mailed at once while the organization is active)',
    tag: TAG,
    scope: 'orgs:write',
    organizationParam: 'organization_id',
    params: OrganizationParams,
    body: z
      .strictObject({
        email: z.string().min(3).max(254),
        roles: roleList.optional().openapi({ description: 'member when not given.' }),
        expires_in_seconds: z.number().int().min(60).max(MAX_INVITATION_SECONDS).optional(),
      })
      .openapi('InvitationCreate'),
    responses: { 201: { description: 'Invited.', schema: InvitationSchema } },
    handler: async (request) => {
      const { body } = request;
      const email = normalizeEmail(body.email);
      if (!isValidEmail(email)) throw Problem.field('body', '/email', `"${body.email}" is not a valid email address`);
      const org = await organization(request.params.organization_id);
      const invitedRoles = await checkedRoles(body.roles ?? [MEMBER_ROLE]);
      const { invitation, mailed } = await asOrganizationProblem(
        () =>
          admin.invite(org.row, {
            email,
            roles: invitedRoles,
            invitedBy: inviter(request.caller),
            linkTtlMs: body.expires_in_seconds ? body.expires_in_seconds * 1000 : DEFAULT_INVITATION_TTL_MS,
          }),
        'email',
      );
      record('org.invited', org.row.id, request, { invitationId: invitation.id, roles: invitedRoles, mailed });
      return { status: 201, body: invitationJson(invitation) };
    },
  });

  api.route({
    method: 'delete',
    path: '/organizations/{organization_id}/invitations/{invitation_id}',
    operationId: 'revokeOrganizationInvitation',
    summary: 'Revoke a pending invitation (its link stops working)',
    tag: TAG,
    scope: 'orgs:write',
    organizationParam: 'organization_id',
    params: InvitationParams,
    responses: { 204: { description: 'Revoked.' } },
    handler: async (request) => {
      const org = await organization(request.params.organization_id);
      const pending = (await invitations.pending(org.row.id)).find((i) => i.id === request.params.invitation_id);
      if (!pending || !(await admin.revoke(org.row.id, pending.email))) {
        throw new Problem('not_found', 'no pending invitation with that id in this organization');
      }
      record('org.invitation_revoked', org.row.id, request, { invitationId: pending.id });
      return { status: 204 };
    },
  });
};

/** Who invited, as memberships keep it: the operator's automation, or the company admin. */
function inviter(caller: AdminCaller): string {
  return caller.kind === 'client' ? 'operator' : caller.userId;
}
