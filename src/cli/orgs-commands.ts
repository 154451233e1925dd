import { slugFromName } from '../organizations/organization-input.ts';
import { CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { checkSegment, warnAboutTaxId } from './orgs-company.ts';
import {
  assertEndsInFuture,
  ORG_ADD_OPTIONS,
  ORG_UPDATE_OPTIONS,
  parseAdmins,
  parseFields,
  parseUpdateFields,
} from './orgs-fields.ts';
import { parsed, withOrgs } from './orgs-support.ts';
import { detailJson, detailText, listed, listText, summary } from './orgs-view.ts';
import { printJson } from './print.ts';

export const ORG_LIST_OPTIONS = { json: { type: 'boolean' } } as const;
export const ORG_SHOW_OPTIONS = { org: { type: 'string', required: true }, json: { type: 'boolean' } } as const;
export const ORG_ONLY_OPTIONS = { org: { type: 'string', required: true } } as const;

const SUBCOMMANDS =
  'add, list, show, update, suspend, resume, remove, invite, revoke-invitation, members or remove-member';

/** `umbral orgs …`: companies, their contract dates, admins, invitations and members. */
export async function runOrgsCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addOrganization(rest, env, io);
    case 'list':
      return listOrganizations(rest, env, io);
    case 'show':
      return showOrganization(rest, env, io);
    case 'update':
      return updateOrganization(rest, env, io);
    case 'suspend':
      return suspendOrganization(rest, env, io);
    case 'resume':
      return resumeOrganization(rest, env, io);
    case 'remove':
      return removeOrganization(rest, env, io);
    case 'invite':
    case 'revoke-invitation':
    case 'members':
    case 'remove-member':
      return (await import('./orgs-members-commands.ts')).runOrgsMembersCommand(action, rest, env, io);
    case undefined:
      throw new CliUsageError(`"orgs" needs a subcommand: ${SUBCOMMANDS}`);
    default:
      throw new CliUsageError(`unknown command "orgs ${action}"`);
  }
}

async function addOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs add', args, ORG_ADD_OPTIONS);
  // Every value's form is checked before the database is opened: a typo costs nothing and changes nothing.
  const fields = parseFields(options);
  const name = fields.name!;
  const slug = fields.slug ?? parsed(() => slugFromName(name));
  const admins = parseAdmins(options.admin);
  assertEndsInFuture(fields.endsAt, new Date());
  await withOrgs(env, io, async (c) => {
    checkSegment(c, fields);
    // The same checks, mail and activation as POST /api/admin/v1/organizations (src/organizations).
    const { organization: org, mailed } = await c.organizations.create({ ...fields, name, slug }, admins);
    await c.changed(
      { event: 'operator.org_added', command: 'orgs add', organizationId: org.row.id, admins: admins.length, mailed },
      'organization added',
    );
    printJson(io, summary(org, new Date()));
    warnAboutTaxId(io, org.row.country, org.row.tax_id);
  });
}

async function listOrganizations(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs list', args, ORG_LIST_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const all = await c.orgs.list();
    const now = new Date();
    if (options.json)
      printJson(
        io,
        all.map((org) => listed(org, now)),
      );
    else io.stdout.write(listText(all, now));
  });
}

async function showOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs show', args, ORG_SHOW_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    const detail = {
      org,
      members: await c.memberships.members(org.row.id),
      invitations: await c.invitations.pending(org.row.id),
      seatsTaken: await c.memberships.seatsTaken(org.row.id),
    };
    const now = new Date();
    if (options.json) printJson(io, detailJson(detail, now));
    else io.stdout.write(detailText(detail, now));
  });
}

async function updateOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs update', args, ORG_UPDATE_OPTIONS);
  const fields = parseUpdateFields(options);
  const admins = parseAdmins(options.admin);
  if (!Object.keys(fields).length && !admins.length) {
    throw new CliUsageError('"orgs update" needs something to change (see umbral help)');
  }
  assertEndsInFuture(fields.endsAt, new Date());
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    checkSegment(c, fields);
    // Everything that could refuse is checked first (src/organizations), so a refusal leaves the company as it was.
    const { organization: updated, mailed } = await c.organizations.update(org, fields, admins);
    await c.changed(
      {
        event: 'operator.org_updated',
        command: 'orgs update',
        organizationId: org.row.id,
        fields: Object.keys(fields),
        admins: admins.length,
        mailed,
      },
      'organization updated',
    );
    printJson(io, summary(updated, new Date()));
    if (fields.taxId !== undefined || fields.country !== undefined) {
      warnAboutTaxId(io, updated.row.country, updated.row.tax_id);
    }
  });
}

async function suspendOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs suspend', args, ORG_ONLY_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    // As at the contract's end: members' sessions at the portals that require an organization end now.
    const { organization: suspended, portalSessions } = await c.organizations.suspend(org);
    await c.changed(
      {
        event: 'operator.org_suspended',
        command: 'orgs suspend',
        organizationId: org.row.id,
        portalSessions,
      },
      'organization suspended',
    );
    printJson(io, { ...summary(suspended, new Date()), portal_sessions_ended: portalSessions });
  });
}

async function resumeOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs resume', args, ORG_ONLY_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    // A welcome held back by the suspension goes now.
    const { organization: resumed, mailed } = await c.organizations.resume(org);
    await c.changed(
      { event: 'operator.org_resumed', command: 'orgs resume', organizationId: org.row.id, mailed },
      'organization resumed',
    );
    printJson(io, summary(resumed, new Date()));
  });
}

async function removeOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs remove', args, ORG_ONLY_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    // Its members lose it with their memberships: their sessions at the portals that require one end too.
    const { portalSessions } = await c.organizations.remove(org);
    await c.changed(
      {
        event: 'operator.org_removed',
        command: 'orgs remove',
        organizationId: org.row.id,
        portalSessions,
      },
      'organization removed',
    );
    printJson(io, { removed: org.row.slug, id: org.row.id, portal_sessions_ended: portalSessions });
  });
}
