import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { SignInEvents } from './sign-in-events.ts';

export type Insights = ReturnType<typeof createInsights>;

/**
 * What company admins learn of their organization, as src/app.ts wires it: the record of sign-ins
 * (fed by the sign-in pipeline, read by the console's metrics and member list).
 */
export function createInsights(deps: {
  config: Config;
  db: Kysely<Database>;
  logger: Logger;
  now?: (() => number) | undefined;
}) {
  const { config, db, logger, now } = deps;
  const signInEvents = new SignInEvents({ db, logger, now });
  return {
    signInEvents,
    /** The purge timer's share. */
    purgeExpired: () => signInEvents.purgeExpired(config.signInEventsRetentionDays),
    async close(): Promise<void> {
      await signInEvents.close();
    },
  };
}
