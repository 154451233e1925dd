import { AuditCursorError, type AuditEvent, type AuditQuery } from '../audit/audit-log.ts';
import type { RegisterRoutes } from './admin-api.ts';
import { pageOf } from './pagination.ts';
import { Problem } from './problem.ts';
import { z } from './zod.ts';

const NDJSON = 'application/x-ndjson';
/** Rows read per query while exporting: the export streams, whatever its size. */
const EXPORT_BATCH = 1000;

export const AuditEventSchema = z
  .object({
    id: z.string(),
    time: z.string().openapi({ example: '2026-12-01T15:04:05.000Z' }),
    type: z.string().openapi({ example: 'sign_in.succeeded' }),
    actor: z.object({ kind: z.enum(['user', 'operator', 'client', 'system']), id: z.string().nullable() }),
    subject_user_id: z.string().nullable(),
    organization_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).openapi({ description: 'A before/after summary; never a secret.' }),
  })
  .openapi('AuditEvent');

const AuditQuerySchema = z
  .object({
    type: z.string().min(1).max(100).optional().openapi({ example: 'sign_in.succeeded' }),
    user_id: z.string().min(1).max(100).optional().openapi({ description: 'The user the events concern.' }),
    organization_id: z.string().min(1).max(100).optional(),
    from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Inclusive, RFC 3339.' }),
    to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Exclusive, RFC 3339.' }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(512).optional().openapi({ description: 'The `next_cursor` of the previous page.' }),
  })
  .refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), {
    message: 'from must be before to',
    path: ['to'],
  });

/** The audit log (src/audit/audit-log.ts `query`): newest first, filtered, paged, or exported as NDJSON. */
export const registerAuditRoutes: RegisterRoutes = (api, options) => {
  api.route({
    method: 'get',
    path: '/audit-events',
    operationId: 'listAuditEvents',
    summary: 'Read the audit log',
    description: `Newest first. With \`Accept: ${NDJSON}\`, every matching event (from the cursor on, if given), one JSON object per line.`,
    tag: 'Audit log',
    scope: 'audit:read',
    query: AuditQuerySchema,
    responses: {
      200: {
        description: 'A page of events, or the NDJSON export.',
        schema: pageOf(AuditEventSchema, 'AuditEventPage'),
        ndjson: AuditEventSchema,
      },
    },
    handler: async ({ query, ctx }) => {
      const filter: AuditQuery = {
        type: query.type,
        userId: query.user_id,
        organizationId: query.organization_id,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        cursor: query.cursor,
      };
      // This process's own events still buffered (the API's changes just made, say) are written first.
      await options.audit.flush();
      // Read once before answering: a bad cursor is a 400, not a broken stream.
      const first = await readPage(() =>
        options.audit.query({ ...filter, limit: ctx.accepts('json', NDJSON) === NDJSON ? EXPORT_BATCH : query.limit }),
      );
      if (ctx.accepts('json', NDJSON) === NDJSON) {
        return { status: 200, stream: { contentType: NDJSON, lines: exportLines(first, filter, options.audit) } };
      }
      return {
        status: 200,
        body: {
          items: first.events.map(eventJson),
          ...(first.nextCursor ? { next_cursor: first.nextCursor } : {}),
        },
      };
    },
  });
};

async function readPage<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof AuditCursorError)
      throw Problem.field('query', '/cursor', 'cursor is not one this API handed out');
    throw error;
  }
}

async function* exportLines(
  first: { events: AuditEvent[]; nextCursor?: string },
  filter: AuditQuery,
  audit: { query(filter: AuditQuery): Promise<{ events: AuditEvent[]; nextCursor?: string }> },
): AsyncIterable<string> {
  let page = first;
  for (;;) {
    for (const event of page.events) yield JSON.stringify(eventJson(event));
    if (!page.nextCursor) return;
    page = await audit.query({ ...filter, cursor: page.nextCursor, limit: EXPORT_BATCH });
  }
}

export function eventJson(event: AuditEvent) {
  return {
    id: event.id,
    time: event.time.toISOString(),
    type: event.type,
    actor: event.actor,
    subject_user_id: event.subjectUserId,
    organization_id: event.organizationId,
    ip: event.ip,
    user_agent: event.userAgent,
    data: event.data,
  };
}
