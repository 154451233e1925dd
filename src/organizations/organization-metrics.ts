import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { MembershipRepository } from './memberships.ts';
import type { SignInMethod } from './sign-in-events.ts';

type Db = Kysely<Database> | Transaction<Database>;

const DAY_MS = 86_400_000;
/** The days the metrics page covers, today included. */
export const METRICS_DAYS = 30;
const METHODS: readonly SignInMethod[] = ['password', 'passkey', 'google', 'microsoft'];

/** One calendar day (UTC) of the sign-ins series. */
export interface DaySignIns {
  /** YYYY-MM-DD, UTC. */
  day: string;
  count: number;
}

/** What an organization's admins see of its use (the console's /org/metrics). */
export interface OrganizationMetrics {
  /** Current members (not removed). */
  members: number;
  /** Current members who signed in at the organization's portals within the last 7 / 30 calendar days (today included). */
  activeMembers: { last7Days: number; last30Days: number };
  /** The last 30 calendar days (UTC), oldest first, today last; days without sign-ins count 0. */
  signInsPerDay: DaySignIns[];
  /** Current members with a confirmed second factor (authenticator app, SMS or passkey). */
  secondFactor: { members: number; withSecondFactor: number; share: number };
  /** Sign-ins of the same 30 days by method; they add up to the series' total. */
  methods: Record<SignInMethod, number>;
  /** Pending: still valid; expired: past their date and not accepted, renewed or revoked. */
  invitations: { pending: number; expired: number };
  /** Seats taken as the invitation limit counts them (members and pending invitations), and the limit (null: none). */
  seats: { used: number; limit: number | null };
}

/**
 * The metrics of one organization at `now`, from the running totals of its sign-ins (per day and
 * method, and each person's last; kept by a trigger on sign_in_events, migration 0023), its
 * memberships, second factors and invitations: six small queries, each on an index of its table,
 * run side by side. What they read grows with days and people, not with sign-ins.
 */
export async function organizationMetrics(db: Db, organizationId: string, now: Date): Promise<OrganizationMetrics> {
  const today = startOfUtcDay(now);
  const from = new Date(today.getTime() - (METRICS_DAYS - 1) * DAY_MS);
  const from7 = new Date(today.getTime() - 6 * DAY_MS);
  const until = new Date(today.getTime() + DAY_MS);
  const [perDayAndMethod, active, members, invitations, seatsUsed, organization] = await Promise.all([
    db
      .selectFrom('organization_sign_in_days')
      .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'method', 'sign_ins'])
      .where('organization_id', '=', organizationId)
      .where('day', '>=', sql<Date>`${isoDay(from)}::date`)
      .where('day', '<', sql<Date>`${isoDay(until)}::date`)
      .execute(),
    // People whose last sign-in falls in the window, of those still members.
    db
      .selectFrom('organization_member_sign_ins as l')
      .select([sql<string>`count(*) filter (where l.last_at >= ${from7})`.as('d7'), sql<string>`count(*)`.as('d30')])
      .where('l.organization_id', '=', organizationId)
      .where('l.last_at', '>=', from)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('organization_memberships as m')
            .select('m.user_id')
            .whereRef('m.user_id', '=', 'l.user_id')
            .where('m.organization_id', '=', organizationId)
            .where('m.removed_at', 'is', null),
        ),
      )
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('organization_memberships as m')
      .select([
        sql<string>`count(*)`.as('members'),
        sql<string>`count(*) filter (where exists (
          select 1 from mfa_factors f where f.user_id = m.user_id and f.confirmed_at is not null))`.as('with_factor'),
      ])
      .where('m.organization_id', '=', organizationId)
      .where('m.removed_at', 'is', null)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('organization_invitations')
      .select([
        sql<string>`count(*) filter (where status = 'pending' and expires_at > ${now})`.as('pending'),
        sql<string>`count(*) filter (where status = 'expired' or (status = 'pending' and expires_at <= ${now}))`.as(
          'expired',
        ),
      ])
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow(),
    new MembershipRepository(db as Kysely<Database>).seatsTaken(organizationId, db),
    db.selectFrom('organizations').select('seat_limit').where('id', '=', organizationId).executeTakeFirst(),
  ]);

  const counts = new Array<number>(METRICS_DAYS).fill(0);
  const methods = Object.fromEntries(METHODS.map((m) => [m, 0])) as Record<SignInMethod, number>;
  for (const row of perDayAndMethod) {
    const n = Number(row.sign_ins);
    const day = Math.round((Date.parse(`${row.day}T00:00:00Z`) - from.getTime()) / DAY_MS);
    if (day >= 0 && day < METRICS_DAYS) counts[day]! += n;
    if ((METHODS as readonly string[]).includes(row.method)) methods[row.method as SignInMethod] += n;
  }
  const memberCount = Number(members.members);
  const withSecondFactor = Number(members.with_factor);
  return {
    members: memberCount,
    activeMembers: { last7Days: Number(active.d7), last30Days: Number(active.d30) },
    signInsPerDay: counts.map((count, i) => ({ day: isoDay(new Date(from.getTime() + i * DAY_MS)), count })),
    secondFactor: {
      members: memberCount,
      withSecondFactor,
      share: memberCount ? withSecondFactor / memberCount : 0,
    },
    methods,
    invitations: { pending: Number(invitations.pending), expired: Number(invitations.expired) },
    seats: { used: seatsUsed, limit: organization?.seat_limit ?? null },
  };
}

function startOfUtcDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

function isoDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
