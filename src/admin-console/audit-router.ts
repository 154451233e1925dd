import Router from '@koa/router';
import type { Kysely } from 'kysely';
import { AuditCursorError, type AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/schema.ts';
import { filterValues, resolveFilters } from './audit-filters.ts';
import type { ConsoleKit } from './console-pages.ts';

const PAGE_SIZE = 50;

/**
 * /admin/audit: the audit log, newest first, filtered by type, user, organization and time range
 * (a GET form: the filtered view is a link an operator can share), 50 events a page.
 */
export function auditRouter(kit: ConsoleKit, deps: { db: Kysely<Database>; audit: Pick<AuditLog, 'query'> }): Router {
  const router = new Router({ prefix: '/admin/audit' });
  router.use(kit.guard);

  router.get('/', async (ctx) => {
    const values = filterValues(ctx.query);
    const { query, errors } = await resolveFilters(deps.db, values);
    if (Object.keys(errors).length) {
      return kit.render(ctx, 'audit', 'admin-audit', { values, errors, events: [], emails: {} }, 400);
    }
    const cursor = typeof ctx.query['cursor'] === 'string' ? ctx.query['cursor'] : undefined;
    let page: Awaited<ReturnType<AuditLog['query']>>;
    try {
      page = await deps.audit.query({ ...query, limit: PAGE_SIZE, cursor });
    } catch (error) {
      if (!(error instanceof AuditCursorError)) throw error;
      page = await deps.audit.query({ ...query, limit: PAGE_SIZE });
    }
    // Subjects, and actors that are people (a person, or an operator in the console), by email.
    const userIds = [
      ...new Set(
        page.events.flatMap((e) => [
          ...(e.subjectUserId ? [e.subjectUserId] : []),
          ...(e.actor.id && e.actor.kind !== 'client' ? [e.actor.id] : []),
        ]),
      ),
    ];
    const users = userIds.length
      ? await deps.db.selectFrom('users').select(['id', 'email']).where('id', 'in', userIds).execute()
      : [];
    const next = page.nextCursor
      ? `/admin/audit?${new URLSearchParams({ ...nonEmpty(values), cursor: page.nextCursor })}`
      : undefined;
    await kit.render(ctx, 'audit', 'admin-audit', {
      values,
      errors,
      events: page.events,
      emails: Object.fromEntries(users.map((u) => [u.id, u.email])),
      next,
    });
  });
  return router;
}

function nonEmpty(values: object): Record<string, string> {
  return Object.fromEntries(Object.entries(values as Record<string, string>).filter(([, v]) => v !== ''));
}
