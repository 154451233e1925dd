import { type Kysely, sql } from 'kysely';
import { jsonArray } from '../organizations/json-array.ts';
import type { SignInMethod } from '../organizations/sign-in-events.ts';
import type { Database } from '../storage/schema.ts';

/** Where the member list reads each member's last sign-in (insights' SignInEvents). */
export interface LastSignIns {
  lastSignIns(organizationId: string, userIds: string[]): Promise<Map<string, { at: Date; methods: SignInMethod[] }>>;
}

export const MEMBERS_PER_PAGE = 25;
/** Longer searches are cut: nobody's name or email is longer. */
export const MAX_SEARCH_LENGTH = 100;

export interface MemberRow {
  userId: string;
  name: string | null;
  email: string;
  roles: string[];
  /** Excluded members stay listed, so they can be included again. */
  status: 'active' | 'excluded';
  secondFactor: boolean;
  lastSignIn: Date | undefined;
  methods: SignInMethod[];
}

export interface MemberPage {
  rows: MemberRow[];
  total: number;
  page: number;
  pages: number;
}

/**
 * The console's list of an organization's people, current and excluded: one page of them in SQL
 * (limit and offset over the membership primary key's organization prefix, sorted by email), the
 * search a case-insensitive substring of the email or the name, and for that page only their
 * second factor and last sign-in. Tens of thousands of members cost one indexed range scan.
 */
export class MemberList {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly signIns: LastSignIns,
  ) {}

  async page(organizationId: string, options: { search: string; page: number }): Promise<MemberPage> {
    const pattern = `%${escapeLike(options.search.trim().toLowerCase().slice(0, MAX_SEARCH_LENGTH))}%`;
    const base = this.db
      .selectFrom('organization_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .where('m.organization_id', '=', organizationId)
      .$if(options.search.trim() !== '', (q) =>
        q.where((eb) =>
          eb.or([
            eb(sql<string>`lower(u.email)`, 'like', pattern),
            eb(sql<string>`lower(coalesce(u.name, ''))`, 'like', pattern),
          ]),
        ),
      );
    const { n } = await base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const total = Number(n);
    const pages = Math.max(1, Math.ceil(total / MEMBERS_PER_PAGE));
    const page = Math.min(Math.max(1, options.page), pages);
    const rows = await base
      .select(['m.user_id', 'u.email', 'u.name', 'm.roles', 'm.removed_at'])
      .select((eb) =>
        eb
          .exists(
            eb
              .selectFrom('mfa_factors as f')
              .select('f.id')
              .whereRef('f.user_id', '=', 'm.user_id')
              .where('f.confirmed_at', 'is not', null),
          )
          .as('second_factor'),
      )
      .orderBy(sql`lower(u.email)`)
      .limit(MEMBERS_PER_PAGE)
      .offset((page - 1) * MEMBERS_PER_PAGE)
      .execute();
    const signIns = await this.signIns.lastSignIns(
      organizationId,
      rows.map((row) => row.user_id),
    );
    return {
      total,
      page,
      pages,
      rows: rows.map((row) => ({
        userId: row.user_id,
        name: row.name,
        email: row.email,
        roles: jsonArray(row.roles),
        status: row.removed_at ? 'excluded' : 'active',
        secondFactor: Boolean(row.second_factor),
        lastSignIn: signIns.get(row.user_id)?.at,
        methods: signIns.get(row.user_id)?.methods ?? [],
      })),
    };
  }

  /** One member (current or excluded) of the organization, for their own page. */
  async member(organizationId: string, userId: string): Promise<MemberRow | undefined> {
    const row = await this.db
      .selectFrom('organization_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.user_id', 'u.email', 'u.name', 'm.roles', 'm.removed_at'])
      .where('m.organization_id', '=', organizationId)
      .where('m.user_id', '=', userId)
      .executeTakeFirst();
    if (!row) return undefined;
    const factor = await this.db
      .selectFrom('mfa_factors')
      .select('id')
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .executeTakeFirst();
    const signIn = (await this.signIns.lastSignIns(organizationId, [userId])).get(userId);
    return {
      userId: row.user_id,
      name: row.name,
      email: row.email,
      roles: jsonArray(row.roles),
      status: row.removed_at ? 'excluded' : 'active',
      secondFactor: !!factor,
      lastSignIn: signIn?.at,
      methods: signIn?.methods ?? [],
    };
  }
}

/** `%`, `_` and `\` typed in a search match themselves. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
