/**
 * The `metrics` phase: a company's metrics page over 100,000 sign-in events. Run after the
 * server of the target stopped, on its store (the bench database, or PGlite's directory, free
 * again): one organization of 5,000 members (a third with a second factor), 300 invitations, and
 * 100,000 sign-ins of its members in the last 30 days, the worst case (every event falls in the
 * page's window), plus as many of other companies. Then `organizationMetrics` (what
 * /org/metrics asks) and `lastSignIns` for a page of 50 members, each timed over 30 runs after 3
 * warm-ups.
 */
import { sql } from 'kysely';
import { createLogger } from '../../src/logging/logger.ts';
import { organizationMetrics } from '../../src/organizations/organization-metrics.ts';
import { SignInEvents } from '../../src/organizations/sign-in-events.ts';
import { migrateToLatest, openStorage } from '../../src/storage/database.ts';
import { type LatencySummary, Samples } from './stats.ts';

export const METRICS_GOAL_MS = 200;

export interface MetricsResult {
  events: number;
  members: number;
  /** Seconds the seeding took (generate_series inserts, then vacuum analyze). */
  seedSeconds: number;
  organizationMetricsMs: LatencySummary;
  lastSignInsOf50Ms: LatencySummary;
}

const EVENTS = 100_000;
const MEMBERS = 5_000;
const RUNS = 30;
const WARM = 3;

export async function benchMetrics(store: {
  databaseUrl: string | undefined;
  dataDir: string;
}): Promise<MetricsResult> {
  const storage = await openStorage({ ...store, role: 'cli' });
  try {
    const { db } = storage;
    await migrateToLatest(db);
    const seeded = performance.now();
    const now = new Date();
    // The page's window: 30 calendar days (UTC), today included.
    const from = new Date(Math.floor(now.getTime() / 86_400_000) * 86_400_000 - 29 * 86_400_000);
    await sql`
      insert into organizations (id, slug, name, activates_at, seat_limit)
      values ('bench-org', 'bench-org', 'Bench S.A.', now() - interval '1 year', 10000),
             ('bench-other', 'bench-other', 'Otra S.A.', now() - interval '1 year', null)`.execute(db);
    await sql`
      insert into users (id, email, name, email_verified)
      select 'bench-u' || i, 'bench' || i || '@example.com', 'Bench ' || i, true from generate_series(1, ${MEMBERS}) i`.execute(
      db,
    );
    await sql`
      insert into organization_memberships (organization_id, user_id, roles, invited_by)
      select 'bench-org', 'bench-u' || i, '["member"]', 'operator' from generate_series(1, ${MEMBERS}) i`.execute(db);
    await sql`
      insert into mfa_factors (id, user_id, kind, confirmed_at)
      select 'bench-f' || i, 'bench-u' || i, 'totp', now() from generate_series(1, ${MEMBERS}, 3) i`.execute(db);
    await sql`
      insert into organization_invitations (id, organization_id, email, roles, expires_at, status)
      select 'bench-i' || i, 'bench-org', 'invited' || i || '@example.com', '["member"]',
             now() + (case when i % 3 = 0 then interval '-1 day' else interval '7 days' end), 'pending'
      from generate_series(1, 300) i`.execute(db);
    // Members sign in unevenly (some daily, most rarely): user ids skewed towards the first ones.
    for (const org of ['bench-org', 'bench-other']) {
      await sql`
        insert into sign_in_events (user_id, organization_id, client_id, method, occurred_at)
        select 'bench-u' || (1 + floor(power(random(), 2) * ${MEMBERS})::int), ${org}, 'crm',
               (array['password', 'password', 'passkey', 'google', 'microsoft'])[1 + floor(random() * 5)::int],
               ${from}::timestamptz + random() * (${now}::timestamptz - ${from}::timestamptz)
        from generate_series(1, ${EVENTS})`.execute(db);
    }
    await sql`vacuum analyze sign_in_events`.execute(db);
    await sql`analyze`.execute(db);
    const seedSeconds = Math.round((performance.now() - seeded) / 100) / 10;

    const metrics = new Samples();
    for (let i = 0; i < WARM + RUNS; i++) {
      const began = performance.now();
      const result = await organizationMetrics(db, 'bench-org', now);
      if (i >= WARM) metrics.add(performance.now() - began);
      if (i === 0 && result.signInsPerDay.reduce((sum, d) => sum + d.count, 0) !== EVENTS) {
        throw new Error(`metrics bench: the series counts ${JSON.stringify(result.signInsPerDay)}, not ${EVENTS}`);
      }
    }
    const events = new SignInEvents({ db, logger: createLogger('silent'), flushIntervalMs: 0 });
    const page = Array.from({ length: 50 }, (_, i) => `bench-u${1 + i * 97}`);
    const last = new Samples();
    for (let i = 0; i < WARM + RUNS; i++) {
      const began = performance.now();
      await events.lastSignIns('bench-org', page);
      if (i >= WARM) last.add(performance.now() - began);
    }
    await events.close();
    return {
      events: EVENTS,
      members: MEMBERS,
      seedSeconds,
      organizationMetricsMs: metrics.summary(),
      lastSignInsOf50Ms: last.summary(),
    };
  } finally {
    await storage.close();
  }
}
