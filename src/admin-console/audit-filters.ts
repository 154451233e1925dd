import type { Kysely } from 'kysely';
import type { AuditQuery } from '../audit/audit-log.ts';
import { OrganizationRepository } from '../organizations/organizations.ts';
import type { Database } from '../storage/schema.ts';
import { UserRepository } from '../users/users.ts';

/** The audit page's filter form, as typed (kept on error). */
export interface AuditFilterValues {
  type: string;
  user: string;
  organization: string;
  from: string;
  to: string;
}

export type AuditFilterField = keyof AuditFilterValues;

/** Why a filter was refused: a message key under admin.audit.error. */
export type AuditFilterErrors = Partial<Record<AuditFilterField, 'type' | 'user' | 'organization' | 'date' | 'range'>>;

const TYPE = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;
/** What <input type="datetime-local"> sends (seconds optional), read as UTC. */
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

const text = (value: unknown, max: number) => (typeof value === 'string' ? value.trim().slice(0, max) : '');

export function filterValues(query: Record<string, unknown>): AuditFilterValues {
  return {
    type: text(query['type'], 100),
    user: text(query['user'], 254),
    organization: text(query['organization'], 100),
    from: text(query['from'], 19),
    to: text(query['to'], 19),
  };
}

/** A datetime-local value as a UTC instant; undefined when it is not one (2026-02-30 included). */
export function parseUtcDateTime(value: string): Date | undefined {
  const match = LOCAL_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map((part) => Number(part ?? 0)) as number[];
  const at = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return at.getUTCMonth() === mo! - 1 && at.getUTCDate() === d! && h! < 24 && mi! < 60 ? at : undefined;
}

/**
 * The filters as an AuditLog query: the user by email or id, the organization by slug or id, the
 * range in UTC (from inclusive, to exclusive). Anything that names nothing is a field error, so
 * an operator never reads "no events" for a typo.
 */
export async function resolveFilters(
  db: Kysely<Database>,
  values: AuditFilterValues,
): Promise<{ query: AuditQuery; errors: AuditFilterErrors }> {
  const errors: AuditFilterErrors = {};
  const query: AuditQuery = {};
  if (values.type) {
    if (TYPE.test(values.type)) query.type = values.type;
    else errors.type = 'type';
  }
  if (values.user) {
    const users = new UserRepository(db);
    const user = values.user.includes('@') ? await users.findByEmail(values.user) : await users.findById(values.user);
    if (user) query.userId = user.id;
    else errors.user = 'user';
  }
  if (values.organization) {
    const organization = await new OrganizationRepository(db).find(values.organization);
    if (organization) query.organizationId = organization.row.id;
    else errors.organization = 'organization';
  }
  for (const field of ['from', 'to'] as const) {
    if (!values[field]) continue;
    const at = parseUtcDateTime(values[field]);
    if (at) query[field] = at;
    else errors[field] = 'date';
  }
  if (query.from && query.to && query.from >= query.to) errors.to = 'range';
  return { query, errors };
}
