import type { Kysely } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import { createLogger } from '../logging/logger.ts';
import { ContractScheduler } from '../organizations/contract-scheduler.ts';
import { InvitationRepository } from '../organizations/invitations.ts';
import { MemberAdministration } from '../organizations/member-administration.ts';
import { MembershipRepository } from '../organizations/memberships.ts';
import { OrganizationAdministration } from '../organizations/organization-administration.ts';
import { OrganizationInputError } from '../organizations/organization-errors.ts';
import { OrganizationMail } from '../organizations/organization-mail.ts';
import { OrganizationRefusal } from '../organizations/organization-refusal.ts';
import { OrganizationSessions } from '../organizations/organization-sessions.ts';
import { type Organization, OrganizationRepository } from '../organizations/organizations.ts';
import { RoleRepository } from '../organizations/roles.ts';
import type { Database } from '../storage/schema.ts';
import { queuedWebhookEvents } from '../webhooks/webhook-event-queue.ts';
import { type CliContext, withCliContext } from './cli-context.ts';
import { CliInputError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { type OperatorChange, recordOperatorChange } from './operator-audit.ts';

/** What the `orgs` and `roles` commands work with, over the server's database. */
export interface OrgsContext {
  context: CliContext;
  db: Kysely<Database>;
  orgs: OrganizationRepository;
  memberships: MembershipRepository;
  invitations: InvitationRepository;
  roles: RoleRepository;
  /** The scheduler's own code path: the CLI mails waiting invitations of an active company with it. */
  contracts: ContractScheduler;
  mail: OrganizationMail;
  sessions: OrganizationSessions;
  /** Invitations, roles and removals: the company console's own code path. */
  admin: MemberAdministration;
  /** Adding, changing, suspending and removing companies: the Admin API's own code path. */
  organizations: OrganizationAdministration;
  /** Pino on stderr (stdout carries JSON): one info line per change an operator makes, nothing secret. */
  log: Logger;
  /** One change made: its info line, and its audit event with the operator as actor. */
  changed(change: OperatorChange, message: string): Promise<void>;
  /** The organization named by `--org` (slug or id), or a refusal. */
  organization(idOrSlug: string): Promise<Organization>;
}

/**
 * Runs `work` with the organizations' repositories. Back-channel logouts it started are
 * delivered before the database closes. OrganizationInputError (a refused value, nothing
 * changed) becomes a CliInputError: exit code 1 with the model's own message.
 */
export async function withOrgs<T>(env: NodeJS.ProcessEnv, io: CliIo, work: (orgs: OrgsContext) => Promise<T>) {
  return withCliContext(env, async (context) => {
    const db = context.storage.db;
    const log = createLogger(context.config.logLevel, { write: (line: string) => void io.stderr.write(line) });
    const sessions = new OrganizationSessions({ provider: context.provider, logger: log });
    const mail = new OrganizationMail({ issuer: context.config.issuer, productName: context.config.productName });
    const orgs = new OrganizationRepository(db);
    // Members added and removed, companies activated: queued here, delivered by the servers (src/webhooks).
    const webhooks = queuedWebhookEvents(db, log);
    const contracts = new ContractScheduler({
      db,
      logger: log,
      mail,
      sessions,
      endWarningDays: context.config.orgEndWarningDays,
      webhooks,
    });
    try {
      return await work({
        context,
        db,
        orgs,
        memberships: new MembershipRepository(db, webhooks),
        invitations: new InvitationRepository(db, Date.now, undefined, webhooks),
        roles: new RoleRepository(db),
        contracts,
        mail,
        sessions,
        admin: new MemberAdministration({ db, mail, sessions, webhooks }),
        organizations: new OrganizationAdministration({ db, mail, sessions, contracts, webhooks }),
        log,
        changed: (change, message) => recordOperatorChange({ db, log, env }, change, message),
        async organization(idOrSlug) {
          const found = await orgs.find(idOrSlug.trim());
          if (!found) throw new CliInputError(`no organization "${idOrSlug}" (see umbral orgs list)`);
          return found;
        },
      });
    } catch (error) {
      if (error instanceof OrganizationInputError) throw new CliInputError(cliMessage(error));
      throw error;
    } finally {
      await sessions.settled();
    }
  });
}

/** The options a refusal's field is given with, where the message does not name it already. */
const REFUSED_OPTIONS: Record<string, string> = { ends_at: '--ends-at', home_client_id: '--home-client' };

function cliMessage(error: OrganizationInputError): string {
  const option = error instanceof OrganizationRefusal ? REFUSED_OPTIONS[error.field] : undefined;
  return option ? `${option}: ${error.message}` : error.message;
}

/** Runs a parser of src/organizations on an operator's value: its refusal is the CLI's. */
export function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof OrganizationInputError) throw new CliInputError(error.message);
    throw error;
  }
}

/** Pads columns for the human-readable listings (`--json` gives the data itself). */
export function table(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return `${rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

export function isoOrDash(value: Date | string | null | undefined): string {
  return value ? new Date(value).toISOString() : '—';
}
