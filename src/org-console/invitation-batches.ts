import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { type Kysely, sql } from 'kysely';
import type { BatchOutcome } from '../organizations/member-administration.ts';
import type { Database } from '../storage/schema.ts';

/** How long the outcome of a batch stays readable (its result page). */
const KEPT_HOURS = 24;

export interface StoredOutcome {
  invited: string[];
  members: string[];
  refused: Array<{ email: string; reason: string }>;
}

/** Addresses pasted in a text area: one a line, or separated by commas, semicolons or spaces. */
export function pastedAddresses(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}

/**
 * Addresses of an uploaded CSV (comma, semicolon or tab separated, as spreadsheets export it):
 * the column headed email/e-mail/correo/e-mail when there is one, else each row's first cell
 * with an @ (or its first cell, refused later as malformed). Throws on a file that is not CSV.
 */
export function csvAddresses(text: string): string[] {
  const rows = parse(text, {
    bom: true,
    delimiter: [',', ';', '\t'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
  }) as string[][];
  const header = rows[0]?.findIndex((cell) => /^(e-?mail|correo( electr[oó]nico)?|email address)$/i.test(cell));
  if (header !== undefined && header >= 0) {
    return rows
      .slice(1)
      .map((row) => row[header] ?? '')
      .filter(Boolean);
  }
  return rows.map((row) => row.find((cell) => cell.includes('@')) ?? row[0] ?? '').filter(Boolean);
}

/** Outcomes of batches, by id, for the page the batch form's 303 leads to. */
export class InvitationBatches {
  constructor(private readonly db: Kysely<Database>) {}

  async save(organizationId: string, createdBy: string, outcome: BatchOutcome): Promise<string> {
    const id = randomUUID();
    const stored: StoredOutcome = {
      invited: outcome.invited.map((i) => i.email),
      members: outcome.members,
      refused: outcome.refused,
    };
    await this.db
      .deleteFrom('organization_invitation_batches')
      .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${KEPT_HOURS})`)
      .execute();
    await this.db
      .insertInto('organization_invitation_batches')
      .values({ id, organization_id: organizationId, created_by: createdBy, outcome: JSON.stringify(stored) })
      .execute();
    return id;
  }

  /** Only the organization's own batch, only for a day. */
  async find(organizationId: string, id: string): Promise<StoredOutcome | undefined> {
    const row = await this.db
      .selectFrom('organization_invitation_batches')
      .select('outcome')
      .where('id', '=', id)
      .where('organization_id', '=', organizationId)
      .where('created_at', '>=', sql<Date>`now() - make_interval(hours => ${KEPT_HOURS})`)
      .executeTakeFirst();
    if (!row) return undefined;
    return (typeof row.outcome === 'string' ? JSON.parse(row.outcome) : row.outcome) as StoredOutcome;
  }
}
