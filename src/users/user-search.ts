import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { type AdminUser, adminUserOf, UserAdministrationError } from './admin-user.ts';

export interface UserSearch {
  /** Part of the email or the name, any case; none lists everyone. */
  query?: string | undefined;
  /** Only disabled (true) or enabled (false) users. */
  disabled?: boolean | undefined;
  /** 1 to 200; default 50. */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

export interface UserPage {
  users: AdminUser[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export const MAX_SEARCH_LENGTH = 254;

/**
 * Users by email or name, in the order of lower(email), which is unique (its index serves the
 * order) and so is the whole cursor: a page starts after the last email of the one before, and
 * users added meanwhile are neither repeated nor skipped before it.
 */
export async function searchUsers(db: Kysely<Database>, search: UserSearch): Promise<UserPage> {
  const limit = search.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw new UserAdministrationError('invalid', 'limit must be a whole number from 1 to 200', 'limit');
  }
  const text = search.query?.trim().toLowerCase() ?? '';
  if (text.length > MAX_SEARCH_LENGTH) {
    throw new UserAdministrationError('invalid', `the search is at most ${MAX_SEARCH_LENGTH} characters`, 'query');
  }
  let query = db.selectFrom('users').selectAll();
  if (text) {
    // A contains match; % and _ typed are matched as themselves.
    const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb(sql<string>`lower(email)`, 'like', pattern),
        eb(sql<string>`lower(coalesce(name, ''))`, 'like', pattern),
      ]),
    );
  }
  if (search.disabled !== undefined) query = query.where('disabled', '=', search.disabled);
  if (search.cursor) query = query.where(sql<string>`lower(email)`, '>', decodeCursor(search.cursor));
  const rows = await query
    .orderBy(sql`lower(email)`)
    .limit(limit + 1)
    .execute();
  const users = rows.slice(0, limit).map(adminUserOf);
  const last = users.at(-1);
  return rows.length > limit && last ? { users, nextCursor: encodeCursor(last.email.toLowerCase()) } : { users };
}

function encodeCursor(email: string): string {
  return Buffer.from(`u|${email}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!text.startsWith('u|') || text.length < 3) {
    throw new UserAdministrationError('invalid', 'cursor is not one this search returned', 'cursor');
  }
  return text.slice(2);
}
