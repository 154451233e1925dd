import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { CompanyRegistration } from './company-registration.ts';
import { CompanyStep } from './company-step.ts';
import { memberJoinedNotice } from './member-joined-notice.ts';
import { SignInEvents } from './sign-in-events.ts';
import { WeeklySummaryPreferences } from './weekly-summary-preferences.ts';
import { WeeklySummaryScheduler } from './weekly-summary-scheduler.ts';

export type Insights = ReturnType<typeof createInsights>;

const DAY_MS = 86_400_000;

/**
 * What company admins learn of and receive from their organization, as src/app.ts wires it: the
 * record of sign-ins (fed by the sign-in pipeline, read by the console's metrics and member
 * list), the company step of `--collect-company` portals, the notice that a collaborator joined
 * (run in each invitation's acceptance) and the weekly summary (a scheduler, once across
 * processes; each admin's choice in `weeklySummaryPreferences`).
 */
export function createInsights(deps: {
  config: Config;
  db: Kysely<Database>;
  logger: Logger;
  audit: AuditTrail;
  now?: (() => number) | undefined;
}) {
  const { config, db, logger, now } = deps;
  const signInEvents = new SignInEvents({ db, logger, now });
  const registration = new CompanyRegistration({
    db,
    logger,
    audit: deps.audit,
    issuer: config.issuer,
    productName: config.productName,
    now,
  });
  const weeklySummaries = new WeeklySummaryScheduler({
    db,
    logger,
    issuer: config.issuer,
    productName: config.productName,
    now,
  });
  return {
    signInEvents,
    registration,
    weeklySummaries,
    weeklySummaryPreferences: new WeeklySummaryPreferences(db),
    /** For invitationPages: the admins' notice, queued in the acceptance's transaction. */
    memberJoined: memberJoinedNotice({ issuer: config.issuer, productName: config.productName }),
    /**
     * Starts the weekly summary's timer: every ORG_SCHEDULER_INTERVAL_SECONDS, but not more often
     * than every 15 minutes (a weekly mail needs no finer clock, and each run asks every company).
     */
    start(): void {
      weeklySummaries.start(Math.max(config.orgSchedulerIntervalSeconds, 900));
    },
    /** The sign-in step that creates a person's company (before the organization step). */
    companyStep: (provider: Provider, pages: PageRenderer) =>
      new CompanyStep({
        config,
        provider,
        pages,
        registration,
        logger,
        hasOrganization: async (accountId) =>
          !!(await db
            .selectFrom('organization_memberships')
            .select('organization_id')
            .where('user_id', '=', accountId)
            .where('removed_at', 'is', null)
            .executeTakeFirst()),
      }),
    /**
     * The purge timer's share: sign-in events past SIGN_IN_EVENTS_RETENTION_DAYS, weeks sent as
     * long ago, and join requests older than a month (they only keep a repeat from mailing again).
     */
    async purgeExpired(): Promise<number> {
      const at = (now ?? Date.now)();
      const events = await signInEvents.purgeExpired(config.signInEventsRetentionDays);
      const weeks = await db
        .deleteFrom('weekly_summary_runs')
        .where('sent_at', '<', new Date(at - config.signInEventsRetentionDays * DAY_MS))
        .executeTakeFirst();
      const requests = await db
        .deleteFrom('organization_join_requests')
        .where('requested_at', '<', new Date(at - 30 * DAY_MS))
        .executeTakeFirst();
      return events + Number(weeks.numDeletedRows) + Number(requests.numDeletedRows);
    },
    async close(): Promise<void> {
      await weeklySummaries.stop();
      await signInEvents.close();
    },
  };
}
