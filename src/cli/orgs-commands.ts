import { sql } from 'kysely';
import { companyColumns } from '../organizations/company-columns.ts';
import { DEFAULT_INVITATION_TTL_MS } from '../organizations/invitations.ts';
import { assertContractDates, slugFromName } from '../organizations/organization-input.ts';
import { organizationStatus } from '../organizations/organization-status.ts';
import type { Organization } from '../organizations/organizations.ts';
import { ADMIN_ROLE } from '../organizations/roles.ts';
import { CliInputError, CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { assertTaxIdFree, checkSegment, warnAboutTaxId } from './orgs-company.ts';
import {
  assertEndsInFuture,
  ORG_ADD_OPTIONS,
  ORG_UPDATE_OPTIONS,
  parseAdmins,
  parseFields,
  parseUpdateFields,
} from './orgs-fields.ts';
import { assertClientExists, type OrgsContext, parsed, withOrgs } from './orgs-support.ts';
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
  // Every value is checked before the database is opened: a typo costs nothing and changes nothing.
  const fields = parseFields(options);
  const name = fields.name!;
  const slug = fields.slug ?? parsed(() => slugFromName(name));
  const now = new Date();
  const activatesAt = fields.activatesAt ?? now;
  assertEndsInFuture(fields.endsAt, now);
  parsed(() => assertContractDates(activatesAt, fields.endsAt ?? null));
  const admins = parseAdmins(options.admin);
  if (fields.seatLimit != null && admins.length > fields.seatLimit) {
    throw new CliInputError(`${admins.length} admins do not fit in ${fields.seatLimit} seats`);
  }
  const company = parsed(() => companyColumns(fields));
  await withOrgs(env, io, async (c) => {
    checkSegment(c, fields);
    await assertTaxIdFree(c, fields.country ?? null, company.tax_id, undefined);
    if (fields.homeClientId) await assertClientExists(c.db, fields.homeClientId);
    const org = await c.orgs.create({ ...fields, name, slug, activatesAt });
    let mailed: number;
    try {
      mailed = await inviteAdmins(c, org, admins);
    } catch (error) {
      // Nothing can refuse these after the checks above; should it happen anyway, leave no half-made company.
      await c.orgs.remove(org.row.id);
      throw error;
    }
    // Active already: the welcomes went above; the activation is recorded as carried out.
    mailed += await c.contracts.sendWaiting(org.row.id);
    await c.changed(
      { event: 'operator.org_added', command: 'orgs add', organizationId: org.row.id, admins: admins.length, mailed },
      'organization added',
    );
    printJson(io, summary((await c.orgs.findById(org.row.id))!, new Date()));
    warnAboutTaxId(io, org.row.country, company);
  });
}

/**
 * Each admin is a pending invitation with the admin role: mailed (the welcome) at once while the
 * company is active, else made without a link, which the activation makes and mails.
 */
async function inviteAdmins(c: OrgsContext, org: Organization, admins: string[]): Promise<number> {
  let mailed = 0;
  for (const email of admins) {
    const invited = await c.mail.invite(c.db, org.row, {
      email,
      roles: [ADMIN_ROLE],
      invitedBy: 'operator',
      linkTtlMs: DEFAULT_INVITATION_TTL_MS,
    });
    if (invited.mailed) mailed += 1;
  }
  return mailed;
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
  const now = new Date();
  assertEndsInFuture(fields.endsAt, now);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    const row = org.row;
    // Everything that could refuse is checked first, so a refusal leaves the company as it was.
    checkSegment(c, fields);
    const company = parsed(() => companyColumns(fields, row));
    const country = fields.country === undefined ? row.country : fields.country;
    await assertTaxIdFree(c, country, company.tax_id === undefined ? row.tax_id : company.tax_id, org);
    const activatesAt = fields.activatesAt ?? new Date(row.activates_at);
    const endsAt = fields.endsAt === undefined ? (row.ends_at ? new Date(row.ends_at) : null) : fields.endsAt;
    parsed(() => assertContractDates(activatesAt, endsAt));
    if (fields.slug !== undefined && fields.slug !== row.slug && (await c.orgs.find(fields.slug))) {
      throw new CliInputError(`an organization with slug "${fields.slug}" already exists`);
    }
    if (fields.homeClientId) await assertClientExists(c.db, fields.homeClientId);
    for (const tenant of fields.microsoftTenants ?? []) await assertUnbound(c, org, 'microsoft', tenant);
    for (const domain of fields.googleDomains ?? []) await assertUnbound(c, org, 'google', domain);
    if (admins.length && organizationStatus(row, now) === 'ended') {
      throw new CliInputError(`${row.slug} has ended: it takes no admins (give it a new --ends-at first)`);
    }
    const newAdmins = await adminsToInvite(c, org, admins);
    const seatLimit = fields.seatLimit === undefined ? row.seat_limit : fields.seatLimit;
    const taken = await c.memberships.seatsTaken(row.id);
    if (seatLimit !== null && taken + newAdmins > seatLimit) {
      throw new CliInputError(
        `${row.name} would need ${taken + newAdmins} seats (${taken} taken by members and pending invitations${newAdmins ? `, ${newAdmins} new admins` : ''}): more than ${seatLimit}`,
      );
    }

    const updated = await c.orgs.update(row.id, fields);
    if (fields.activatesAt !== undefined) await shiftWaitingInvitations(c, org, fields.activatesAt);
    let mailed = await inviteAdmins(c, updated, admins);
    // An update that makes it active (an earlier date) mails what was waiting for that.
    mailed += await c.contracts.sendWaiting(row.id);
    await c.changed(
      {
        event: 'operator.org_updated',
        command: 'orgs update',
        organizationId: row.id,
        fields: Object.keys(fields),
        admins: admins.length,
        mailed,
      },
      'organization updated',
    );
    printJson(io, summary((await c.orgs.findById(row.id))!, new Date()));
    warnAboutTaxId(io, country, company);
  });
}

async function assertUnbound(c: OrgsContext, org: Organization, provider: 'microsoft' | 'google', value: string) {
  const bound = await c.orgs.boundTo(provider, value);
  if (bound && bound.row.id !== org.row.id) {
    const what = provider === 'microsoft' ? 'Microsoft tenant' : 'Google Workspace domain';
    throw new CliInputError(`${what} ${value} is already bound to another organization (${bound.row.slug})`);
  }
}

/** New admins take a seat each, unless they already have a pending invitation; a member is refused. */
async function adminsToInvite(c: OrgsContext, org: Organization, admins: string[]): Promise<number> {
  const members = new Set((await c.memberships.members(org.row.id)).map((m) => m.email.toLowerCase()));
  const invited = new Set((await c.invitations.pending(org.row.id)).map((i) => i.email.toLowerCase()));
  let seats = 0;
  for (const email of admins) {
    if (members.has(email.toLowerCase())) {
      throw new CliInputError(`${email} is already a member of ${org.row.name}: an admin gives them the admin role`);
    }
    if (!invited.has(email.toLowerCase())) seats += 1;
  }
  return seats;
}

/** Waiting invitations keep their link's validity past the activation when the activation moves. */
async function shiftWaitingInvitations(c: OrgsContext, org: Organization, activatesAt: Date): Promise<void> {
  const seconds = (activatesAt.getTime() - new Date(org.row.activates_at).getTime()) / 1000;
  if (!seconds) return;
  await c.db
    .updateTable('organization_invitations')
    .set({ expires_at: sql<Date>`expires_at + make_interval(secs => ${seconds})` })
    .where('organization_id', '=', org.row.id)
    .where('status', '=', 'pending')
    .where('token_hash', 'is', null)
    .execute();
}

async function suspendOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs suspend', args, ORG_ONLY_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    if (!(await c.orgs.suspend(org.row.id))) throw new CliInputError(`${org.row.slug} is already suspended`);
    // As at the contract's end: members' sessions at the portals that require an organization end now.
    const logouts = await c.sessions.takeOut(c.db, { organizationId: org.row.id }, 'required');
    c.sessions.deliver(logouts);
    await c.changed(
      {
        event: 'operator.org_suspended',
        command: 'orgs suspend',
        organizationId: org.row.id,
        portalSessions: logouts.length,
      },
      'organization suspended',
    );
    const now = new Date();
    printJson(io, { ...summary((await c.orgs.findById(org.row.id))!, now), portal_sessions_ended: logouts.length });
  });
}

async function resumeOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs resume', args, ORG_ONLY_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    if (!(await c.orgs.resume(org.row.id))) throw new CliInputError(`${org.row.slug} is not suspended`);
    // A welcome held back by the suspension goes now.
    const mailed = await c.contracts.sendWaiting(org.row.id);
    await c.changed(
      { event: 'operator.org_resumed', command: 'orgs resume', organizationId: org.row.id, mailed },
      'organization resumed',
    );
    printJson(io, summary((await c.orgs.findById(org.row.id))!, new Date()));
  });
}

async function removeOrganization(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('orgs remove', args, ORG_ONLY_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const org = await c.organization(options.org);
    // Its members lose it with their memberships: their sessions at the portals that require one end too.
    const logouts = await c.sessions.takeOut(c.db, { organizationId: org.row.id }, 'required');
    await c.orgs.remove(org.row.id);
    c.sessions.deliver(logouts);
    await c.changed(
      {
        event: 'operator.org_removed',
        command: 'orgs remove',
        organizationId: org.row.id,
        portalSessions: logouts.length,
      },
      'organization removed',
    );
    printJson(io, { removed: org.row.slug, id: org.row.id, portal_sessions_ended: logouts.length });
  });
}
