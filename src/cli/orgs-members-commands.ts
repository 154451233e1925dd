import { jsonArray } from '../organizations/json-array.ts';
import { OrganizationInputError } from '../organizations/organization-errors.ts';
import { MEMBER_ROLE, parseRoleName } from '../organizations/roles.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import { UserRepository } from '../users/users.ts';
import { CliInputError, CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { parseExpiresIn } from './orgs-fields.ts';
import { parsed, withOrgs } from './orgs-support.ts';
import { invitationJson, memberJson, membersText } from './orgs-view.ts';
import { printJson } from './print.ts';

export const ORG_INVITE_OPTIONS = {
  org: { type: 'string', required: true },
  email: { type: 'string', required: true },
  role: { type: 'string', multiple: true },
  'expires-in': { type: 'string' },
} as const;

export const ORG_MEMBER_OPTIONS = {
  org: { type: 'string', required: true },
  email: { type: 'string', required: true },
} as const;

export const ORG_MEMBERS_OPTIONS = { org: { type: 'string', required: true }, json: { type: 'boolean' } } as const;

/** `umbral orgs invite|revoke-invitation|members|remove-member …` */
export async function runOrgsMembersCommand(
  action: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<void> {
  switch (action) {
    case 'invite':
      return invite(args, env, io);
    case 'revoke-invitation':
      return revokeInvitation(args, env, io);
    case 'members':
      return listMembers(args, env, io);
    case 'remove-member':
      return removeMember(args, env, io);
    default:
      throw new CliUsageError(`unknown command "orgs ${action}"`);
  }
}

function checkedEmail(value: string): string {
  const email = normalizeEmail(value);
  if (!isValidEmail(email)) throw new CliInputError(`--email "${value}" is not a valid email address`);
  return email;
}

/**
 * An invitation, mailed at once while the company is active. While it is scheduled the
 * invitation waits, admin or not, and is mailed at the activation (the welcome for admins),
 * its link then valid for --expires-in. Suspended and ended companies take no invitations.
 */
async function invite(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs invite', args, ORG_INVITE_OPTIONS);
  const email = checkedEmail(options.email);
  const named = options.role.length ? options.role : [MEMBER_ROLE];
  const roleNames = named.map((role) => parsed(() => parseRoleName(role)));
  const linkTtlMs = parseExpiresIn(options['expires-in']);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    const { invitation, mailed } = await c.admin
      .invite(org.row, { email, roles: roleNames, invitedBy: 'operator', linkTtlMs })
      .catch((error: unknown) => {
        if (error instanceof OrganizationInputError && error.reason === 'org_suspended') {
          throw new CliInputError(`${error.message} until umbral orgs resume`);
        }
        throw error;
      });
    await c.changed(
      {
        event: 'operator.org_invited',
        command: 'orgs invite',
        organizationId: org.row.id,
        invitationId: invitation.id,
        roles: jsonArray(invitation.roles),
        mailed,
      },
      'invitation made',
    );
    const current = await c.db
      .selectFrom('organization_invitations')
      .selectAll()
      .where('id', '=', invitation.id)
      .executeTakeFirstOrThrow();
    printJson(io, { organization: org.row.slug, ...invitationJson(current) });
  });
}

async function revokeInvitation(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs revoke-invitation', args, ORG_MEMBER_OPTIONS);
  const email = checkedEmail(options.email);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    if (!(await c.invitations.revoke(org.row.id, email))) {
      throw new CliInputError(`${email} has no pending invitation to ${org.row.slug}`);
    }
    await c.changed(
      { event: 'operator.org_invitation_revoked', command: 'orgs revoke-invitation', organizationId: org.row.id },
      'invitation revoked',
    );
    printJson(io, { organization: org.row.slug, revoked: email });
  });
}

async function listMembers(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs members', args, ORG_MEMBERS_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    const members = await c.memberships.members(org.row.id);
    if (options.json) printJson(io, members.map(memberJson));
    else io.stdout.write(membersText(members));
  });
}

/**
 * Ends the membership (the last admin of an active company stays: MembershipRepository) and the
 * member's sessions at the portals that require or use an organization, with back-channel logout.
 */
async function removeMember(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs remove-member', args, ORG_MEMBER_OPTIONS);
  const email = checkedEmail(options.email);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    const user = await new UserRepository(c.db).findByEmail(email);
    const member = user ? await c.memberships.membership(org.row.id, user.id) : undefined;
    if (!user || !member) throw new CliInputError(`${email} is not a member of ${org.row.slug}`);
    const portalSessions = await c.admin.exclude(org.row, user.id);
    await c.changed(
      {
        event: 'operator.org_member_removed',
        command: 'orgs remove-member',
        organizationId: org.row.id,
        userId: user.id,
        portalSessions,
      },
      'member removed',
    );
    printJson(io, { organization: org.row.slug, removed: email, portal_sessions_ended: portalSessions });
  });
}
