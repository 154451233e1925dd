import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

/**
 * Whether an admin receives the weekly summary of an organization: on unless they turned it off
 * (the console's toggle). Only the choice to be left out is stored, so a new admin gets it.
 */
export class WeeklySummaryPreferences {
  constructor(private readonly db: Kysely<Database>) {}

  async isOn(organizationId: string, userId: string): Promise<boolean> {
    const off = await this.db
      .selectFrom('weekly_summary_opt_outs')
      .select('user_id')
      .where('organization_id', '=', organizationId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return !off;
  }

  async set(organizationId: string, userId: string, on: boolean): Promise<void> {
    if (on) {
      await this.db
        .deleteFrom('weekly_summary_opt_outs')
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .execute();
    } else {
      await this.db
        .insertInto('weekly_summary_opt_outs')
        .values({ organization_id: organizationId, user_id: userId })
        .onConflict((oc) => oc.columns(['organization_id', 'user_id']).doNothing())
        .execute();
    }
  }
}
