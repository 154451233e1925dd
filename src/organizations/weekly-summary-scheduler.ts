import { type Kysely, sql, type Transaction } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import { MailQueue } from '../notify/mail-queue.ts';
import type { Database, OrganizationRow } from '../storage/schema.ts';
import { organizationAdmins, portalName } from './organization-admins.ts';
import { PeriodicRun } from './periodic-run.ts';

export const WEEKLY_SUMMARY_TEMPLATE = 'organization-weekly-summary';
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

export interface WeeklySummaryDependencies {
  db: Kysely<Database>;
  logger: Logger;
  issuer: string;
  productName: string;
  /** Milliseconds since the epoch (tests move it); every week is reckoned from it, never from the database's clock. */
  now?: (() => number) | undefined;
}

/** What a week brought an organization. */
export interface WeekFigures {
  /** Joined during the week and still members. */
  newMembers: number;
  /** Current members who signed in at its portals during the week. */
  activeMembers: number;
  signIns: number;
  members: number;
  withSecondFactor: number;
}

/**
 * The weekly summary to each organization's admins, for the week (Monday 00:00 UTC to the next)
 * that ended last: new members, active members, sign-ins, second-factor share. Every Umbral
 * process runs it (every ORG_SCHEDULER_INTERVAL_SECONDS, 15 minutes at least); each organization is claimed with
 * `select … for update skip locked` in a transaction that also records the week as sent
 * (`weekly_summary_runs`, keyed by organization and week) and queues the mail, so it is sent once
 * however many processes run, and after a crash the week is still due. Admins who turned it off
 * (WeeklySummaryPreferences) are left out; an organization without recipients is recorded too.
 * Organizations active when the week ended get it, those that started after do not.
 */
export class WeeklySummaryScheduler {
  private readonly now: () => number;
  private readonly periodic: PeriodicRun;

  constructor(private readonly deps: WeeklySummaryDependencies) {
    this.now = deps.now ?? Date.now;
    this.periodic = new PeriodicRun(() => this.runOnce(), deps.logger, 'weekly summary run failed');
  }

  start(intervalSeconds: number): void {
    this.periodic.start(intervalSeconds);
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
  }

  /** Sends what is due; returns how many organizations' summaries (and mails) it queued. */
  async runOnce(): Promise<{ organizations: number; mails: number }> {
    const weekEnd = lastMonday(new Date(this.now()));
    const weekStart = new Date(weekEnd.getTime() - WEEK_MS);
    const run = { organizations: 0, mails: 0 };
    const failed: string[] = [];
    for (;;) {
      let claimed: OrganizationRow | undefined;
      try {
        await this.deps.db.transaction().execute(async (trx) => {
          claimed = await this.due(trx, weekStart, weekEnd, failed);
          if (!claimed) return;
          run.mails += await this.send(trx, claimed, weekStart, weekEnd);
          run.organizations += 1;
        });
      } catch (error) {
        if (!claimed) throw error;
        failed.push(claimed.id);
        this.deps.logger.error({ err: error, organizationId: claimed.id }, 'weekly summary of an organization failed');
        continue;
      }
      if (!claimed) return run;
    }
  }

  /** What a week brought: the figures of the summary. */
  async figures(
    db: Kysely<Database> | Transaction<Database>,
    organizationId: string,
    from: Date,
    to: Date,
  ): Promise<WeekFigures> {
    const [members, events] = await Promise.all([
      db
        .selectFrom('organization_memberships as m')
        .select([
          sql<string>`count(*)`.as('members'),
          sql<string>`count(*) filter (where m.joined_at >= ${from} and m.joined_at < ${to})`.as('new_members'),
          sql<string>`count(*) filter (where exists (
            select 1 from mfa_factors f where f.user_id = m.user_id and f.confirmed_at is not null))`.as('with_factor'),
        ])
        .where('m.organization_id', '=', organizationId)
        .where('m.removed_at', 'is', null)
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('sign_in_events as e')
        .select([
          sql<string>`count(*)`.as('sign_ins'),
          sql<string>`count(distinct e.user_id) filter (where exists (
            select 1 from organization_memberships m
            where m.organization_id = e.organization_id and m.user_id = e.user_id and m.removed_at is null))`.as(
            'active',
          ),
        ])
        .where('e.organization_id', '=', organizationId)
        .where('e.occurred_at', '>=', from)
        .where('e.occurred_at', '<', to)
        .executeTakeFirstOrThrow(),
    ]);
    return {
      newMembers: Number(members.new_members),
      activeMembers: Number(events.active),
      signIns: Number(events.sign_ins),
      members: Number(members.members),
      withSecondFactor: Number(members.with_factor),
    };
  }

  /** The next organization active at the week's end whose summary for that week is not sent, held for this transaction. */
  private due(trx: Transaction<Database>, weekStart: Date, weekEnd: Date, skip: string[]) {
    return trx
      .selectFrom('organizations as o')
      .selectAll('o')
      .where('o.activates_at', '<', weekEnd)
      .where('o.suspended_at', 'is', null)
      .where((eb) => eb.or([eb('o.ends_at', 'is', null), eb('o.ends_at', '>', weekEnd)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('weekly_summary_runs as r')
              .select('r.organization_id')
              .whereRef('r.organization_id', '=', 'o.id')
              .where('r.week_start', '=', isoDay(weekStart)),
          ),
        ),
      )
      .$if(skip.length > 0, (qb) => qb.where('o.id', 'not in', skip))
      .orderBy('o.id')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
  }

  private async send(
    trx: Transaction<Database>,
    org: OrganizationRow,
    weekStart: Date,
    weekEnd: Date,
  ): Promise<number> {
    const optedOut = new Set(
      (
        await trx
          .selectFrom('weekly_summary_opt_outs')
          .select('user_id')
          .where('organization_id', '=', org.id)
          .execute()
      ).map((row) => row.user_id),
    );
    const admins = (await organizationAdmins(trx, org.id)).filter((admin) => !optedOut.has(admin.userId));
    // The week recorded first: a second process that got this far anyway stops at the key.
    const recorded = await trx
      .insertInto('weekly_summary_runs')
      .values({
        organization_id: org.id,
        week_start: isoDay(weekStart),
        sent_at: new Date(this.now()),
        recipients: admins.length,
      })
      .onConflict((oc) => oc.columns(['organization_id', 'week_start']).doNothing())
      .returning('organization_id')
      .executeTakeFirst();
    if (!recorded || !admins.length) return 0;
    const figures = await this.figures(trx, org.id, weekStart, weekEnd);
    const portal = await portalName(trx, org.home_client_id, this.deps.productName);
    const queue = new MailQueue(trx as unknown as Kysely<Database>);
    const lastDay = new Date(weekEnd.getTime() - DAY_MS);
    for (const admin of admins) {
      // Days, not instants: the week counted runs Monday to Sunday in UTC, so its days are named in
      // UTC too (in the admin's zone they could shift by one and misstate what was counted).
      const day = new Intl.DateTimeFormat(admin.locale, { dateStyle: 'long', timeZone: 'UTC' });
      const percent = new Intl.NumberFormat(admin.locale, { style: 'percent', maximumFractionDigits: 0 });
      await queue.add({
        to: admin.email,
        template: WEEKLY_SUMMARY_TEMPLATE,
        locale: admin.locale,
        data: {
          company: org.name,
          portal,
          from: day.format(weekStart),
          to: day.format(lastDay),
          newMembers: figures.newMembers,
          activeMembers: figures.activeMembers,
          members: figures.members,
          signIns: figures.signIns,
          secondFactorShare: percent.format(figures.members ? figures.withSecondFactor / figures.members : 0),
          consoleUrl: `${this.deps.issuer}/org/metrics`,
        },
      });
    }
    this.deps.logger.info(
      {
        event: 'organization.weekly_summary',
        organizationId: org.id,
        week: weekStart.toISOString(),
        admins: admins.length,
      },
      'weekly summary queued',
    );
    return admins.length;
  }
}

/** A date column's value: YYYY-MM-DD, so the session's time zone never shifts it. */
function isoDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Monday 00:00 UTC of the week `at` falls in. */
export function lastMonday(at: Date): Date {
  const day = new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * DAY_MS);
}
