import type { Kysely, Transaction } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import type { Database, OrganizationRow } from '../storage/schema.ts';
import type { WebhookEvents } from '../webhooks/webhook-events.ts';
import type { OrganizationMail } from './organization-mail.ts';
import type { OrganizationSessions } from './organization-sessions.ts';
import { organizationStatus } from './organization-status.ts';
import { PeriodicRun } from './periodic-run.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ContractSchedulerDependencies {
  db: Kysely<Database>;
  logger: Logger;
  mail: OrganizationMail;
  sessions: OrganizationSessions;
  /** ORG_END_WARNING_DAYS: admins are warned this many days before `ends_at` (0: never). */
  endWarningDays: number;
  /** Milliseconds since the epoch (tests move it). Every due date is compared with it, never with the database's clock. */
  now?: () => number;
  /** Where activations and ends are announced (org.activated, org.ended), in their transaction. */
  webhooks?: WebhookEvents | undefined;
}

/** What one run carried out: organizations activated, of which invitations mailed, warned and ended. */
export interface SchedulerRun {
  activated: number;
  invitationsMailed: number;
  warned: number;
  ended: number;
}

/** What carrying out one event leaves to do once its transaction has committed. */
type AfterCommit = (() => void) | undefined;

/**
 * The contract lifecycle of companies, run by every Umbral process every
 * ORG_SCHEDULER_INTERVAL_SECONDS. Each event is claimed one organization at a time with
 * `select … for update skip locked` in a transaction that also queues its mail (the mail queue is
 * a table) and sets the column that records it done (`welcomed_at`, `end_warned_at`, `ended_at`):
 * with several processes on one PostgreSQL, one of them carries an event out and the others skip
 * it; after a crash the transaction rolls back and the event is still due, so it happens once.
 *
 * - activation (`activates_at` reached, not suspended, not ended): every waiting invitation gets
 *   its link and its mail (the welcome for designated admins), and `welcomed_at` is set. Waiting
 *   invitations of a company already welcomed (invited while it was scheduled, or left by a
 *   command that stopped halfway) are mailed the same way on the next run.
 * - end warning (`ORG_END_WARNING_DAYS` before `ends_at`): the admins are mailed once.
 * - end (`ends_at` reached): members' sessions at the portals that require an organization end in
 *   the same transaction (grants revoked, portal taken out of the session), `ended_at` is set, and
 *   the portals hear it by back-channel logout after the commit.
 */
export class ContractScheduler {
  private readonly now: () => number;
  private readonly periodic: PeriodicRun;

  constructor(private readonly deps: ContractSchedulerDependencies) {
    this.now = deps.now ?? Date.now;
    this.periodic = new PeriodicRun(() => this.runOnce(), deps.logger, 'contract scheduler run failed');
  }

  /** Runs every `intervalSeconds` (the first run after one interval); a run still going skips a tick. */
  start(intervalSeconds: number): void {
    this.periodic.start(intervalSeconds);
  }

  /** Stops the timer and waits for a run under way and its back-channel deliveries. */
  async stop(): Promise<void> {
    await this.periodic.stop();
    await this.deps.sessions.settled();
  }

  /** Waits for back-channel logouts sent by runs so far (tests). */
  settled(): Promise<void> {
    return this.deps.sessions.settled();
  }

  async runOnce(): Promise<SchedulerRun> {
    const run: SchedulerRun = { activated: 0, invitationsMailed: 0, warned: 0, ended: 0 };
    await this.eachDue(
      'activation',
      (trx, skip) => this.dueActivation(trx, skip),
      async (trx, org) => {
        run.invitationsMailed += await this.activate(trx, org);
        if (!org.welcomed_at) run.activated += 1;
        return undefined;
      },
    );
    if (this.deps.endWarningDays > 0) {
      await this.eachDue(
        'end warning',
        (trx, skip) => this.dueWarning(trx, skip),
        async (trx, org) => {
          const admins = await this.deps.mail.sendEndWarnings(trx, org);
          await trx.updateTable('organizations').set({ end_warned_at: this.at() }).where('id', '=', org.id).execute();
          this.deps.logger.info({ event: 'organization.end_warned', organizationId: org.id, admins }, 'end warned');
          run.warned += 1;
          return undefined;
        },
      );
    }
    await this.eachDue(
      'end',
      (trx, skip) => this.dueEnd(trx, skip),
      async (trx, org) => {
        const logouts = await this.deps.sessions.takeOut(trx, { organizationId: org.id }, 'required');
        await trx.updateTable('organizations').set({ ended_at: this.at() }).where('id', '=', org.id).execute();
        await this.deps.webhooks?.emit('org.ended', orgEvent(org), trx);
        this.deps.logger.info(
          { event: 'organization.ended', organizationId: org.id, portalSessions: logouts.length },
          'organization ended',
        );
        run.ended += 1;
        return () => this.deps.sessions.deliver(logouts);
      },
    );
    return run;
  }

  /**
   * Mails the waiting invitations of one organization now, if it is active: what the CLI runs
   * after `orgs add` and `orgs invite`. It waits for the organization's row (a scheduler holding
   * it finishes first), so an invitation is never mailed twice. Returns how many were mailed.
   */
  async sendWaiting(organizationId: string): Promise<number> {
    return this.deps.db.transaction().execute(async (trx) => {
      const org = await trx
        .selectFrom('organizations')
        .selectAll()
        .where('id', '=', organizationId)
        .forUpdate()
        .executeTakeFirst();
      if (!org || organizationStatus(org, this.at()) !== 'active') return 0;
      return this.activate(trx, org);
    });
  }

  /** The activation, or the catch-up of invitations that waited: links made, mails queued, `welcomed_at` set. */
  private async activate(trx: Transaction<Database>, org: OrganizationRow): Promise<number> {
    const mailed = await this.deps.mail.deliverWaiting(trx, org);
    if (!org.welcomed_at) {
      await trx.updateTable('organizations').set({ welcomed_at: this.at() }).where('id', '=', org.id).execute();
      await this.deps.webhooks?.emit('org.activated', orgEvent(org), trx);
      this.deps.logger.info({ event: 'organization.activated', organizationId: org.id, mailed }, 'organization active');
    } else if (mailed) {
      this.deps.logger.info({ event: 'organization.invitations_mailed', organizationId: org.id, mailed }, 'mailed');
    }
    return mailed;
  }

  /**
   * Claims due organizations one by one, each in its own transaction, until none is left. One
   * that fails is logged and left for the next run (its transaction rolled back: nothing of it
   * happened), so it cannot hold up the others.
   */
  private async eachDue(
    event: string,
    claim: (trx: Transaction<Database>, skip: string[]) => Promise<OrganizationRow | undefined>,
    carryOut: (trx: Transaction<Database>, org: OrganizationRow) => Promise<AfterCommit>,
  ): Promise<void> {
    const failed: string[] = [];
    for (;;) {
      let claimed: OrganizationRow | undefined;
      let after: AfterCommit;
      try {
        await this.deps.db.transaction().execute(async (trx) => {
          claimed = await claim(trx, failed);
          if (claimed) after = await carryOut(trx, claimed);
        });
      } catch (error) {
        if (!claimed) throw error;
        failed.push(claimed.id);
        this.deps.logger.error({ err: error, event, organizationId: claimed.id }, 'organization event failed');
        continue;
      }
      if (!claimed) return;
      after?.();
    }
  }

  private dueActivation(trx: Transaction<Database>, skip: string[]) {
    const now = this.at();
    return trx
      .selectFrom('organizations as o')
      .selectAll('o')
      .where('o.suspended_at', 'is', null)
      .where('o.activates_at', '<=', now)
      .where((eb) => eb.or([eb('o.ends_at', 'is', null), eb('o.ends_at', '>', now)]))
      .where((eb) =>
        eb.or([
          eb('o.welcomed_at', 'is', null),
          eb.exists(
            eb
              .selectFrom('organization_invitations as i')
              .select('i.id')
              .whereRef('i.organization_id', '=', 'o.id')
              .where('i.status', '=', 'pending')
              .where('i.token_hash', 'is', null),
          ),
        ]),
      )
      .$if(skip.length > 0, (qb) => qb.where('o.id', 'not in', skip))
      .orderBy('o.activates_at')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
  }

  private dueWarning(trx: Transaction<Database>, skip: string[]) {
    const now = this.at();
    return trx
      .selectFrom('organizations')
      .selectAll()
      .where('end_warned_at', 'is', null)
      .where('ended_at', 'is', null)
      .where('activates_at', '<=', now)
      .where('ends_at', '>', now)
      .where('ends_at', '<=', new Date(now.getTime() + this.deps.endWarningDays * DAY_MS))
      .$if(skip.length > 0, (qb) => qb.where('id', 'not in', skip))
      .orderBy('ends_at')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
  }

  private dueEnd(trx: Transaction<Database>, skip: string[]) {
    return trx
      .selectFrom('organizations')
      .selectAll()
      .where('ended_at', 'is', null)
      .where('ends_at', '<=', this.at())
      .$if(skip.length > 0, (qb) => qb.where('id', 'not in', skip))
      .orderBy('ends_at')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
  }

  private at(): Date {
    return new Date(this.now());
  }
}

/** The data of org.activated and org.ended. */
function orgEvent(org: OrganizationRow): { organization_id: string; slug: string; name: string } {
  return { organization_id: org.id, slug: org.slug, name: org.name };
}
