import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { jsonArray } from './json-array.ts';
import type { SignInEvents } from './sign-in-events.ts';

/** One line of the members export. */
export interface MemberCsvRow {
  email: string;
  name: string | null;
  roles: readonly string[];
  /** As the caller names it in the reader's language, e.g. "Activo" / "Excluido". */
  status: string;
  lastSignIn: Date | null;
}

/** The header line, in the reader's language. */
export interface MemberCsvHeader {
  email: string;
  name: string;
  roles: string;
  status: string;
  lastSignIn: string;
}

export const ENGLISH_MEMBER_CSV_HEADER: MemberCsvHeader = {
  email: 'Email',
  name: 'Name',
  roles: 'Roles',
  status: 'Status',
  lastSignIn: 'Last sign-in',
};

/**
 * The members as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted,
 * quotes doubled). Roles are joined with "; ", the last sign-in is ISO 8601 in UTC (empty: never).
 * A cell a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return,
 * OWASP's list) gets a leading apostrophe: a member's name is theirs to type, and the admin opens
 * the file in a spreadsheet.
 */
export function membersCsv(rows: readonly MemberCsvRow[], header: MemberCsvHeader = ENGLISH_MEMBER_CSV_HEADER): string {
  const lines = [[header.email, header.name, header.roles, header.status, header.lastSignIn]];
  for (const row of rows) {
    lines.push([row.email, row.name ?? '', row.roles.join('; '), row.status, row.lastSignIn?.toISOString() ?? '']);
  }
  return `${lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** One cell, neutralized then quoted as RFC 4180 asks. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The organization's members for the export, current ones first, then those excluded (kept as
 * history), by email; each with their last sign-in at its portals. `status` names come from the
 * caller, in the reader's language.
 */
export async function membersForExport(
  db: Kysely<Database>,
  events: Pick<SignInEvents, 'lastSignIns'>,
  organizationId: string,
  statusNames: { active: string; excluded: string },
): Promise<MemberCsvRow[]> {
  const members = await db
    .selectFrom('organization_memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email', 'u.name', 'm.roles', 'm.removed_at'])
    .where('m.organization_id', '=', organizationId)
    .execute();
  const last = await events.lastSignIns(
    organizationId,
    members.map((m) => m.id),
  );
  return members
    .sort((a, b) => Number(!!a.removed_at) - Number(!!b.removed_at) || a.email.localeCompare(b.email))
    .map((m) => ({
      email: m.email,
      name: m.name,
      roles: jsonArray(m.roles),
      status: m.removed_at ? statusNames.excluded : statusNames.active,
      lastSignIn: last.get(m.id)?.at ?? null,
    }));
}
