import type Koa from 'koa';
import type { AuditActor, AuditOrigin } from '../audit/audit-event.ts';
import type { AdminCaller } from './admin-caller.ts';
import type { AdminScope } from './admin-scopes.ts';
import type { z } from './zod.ts';

/** What a resource file declares for each Admin API route: its schemas, scope and handler. */
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type AnyObject = z.ZodObject<z.ZodRawShape>;
export type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

export interface AdminRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  caller: AdminCaller;
  /** The audit actor: the client, or the company admin. */
  actor: AuditActor;
  origin: AuditOrigin;
  /** The If-Match header, for updates (src/admin-api/etag.ts). */
  ifMatch: string | undefined;
  ctx: Koa.Context;
}

/** A JSON answer; `stream` instead of `body` for NDJSON exports (one JSON text per line). */
export interface AdminReply {
  status: number;
  body?: unknown;
  etag?: string;
  location?: string;
  stream?: { contentType: string; lines: AsyncIterable<string> };
}

export interface AdminRouteSpec<P extends AnyObject | undefined, Q extends AnyObject | undefined, B> {
  method: Method;
  /** OpenAPI style, under /api/admin/v1: `/clients/{client_id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** The scope a client's token needs. */
  scope: AdminScope;
  /** Organization routes: the path parameter a company admin's token must match (their organization). */
  organizationParam?: string;
  params?: P;
  query?: Q;
  body?: B extends z.ZodType ? B : never;
  /** Answers of success: a schema for JSON (none for 204), `ndjson` for an export's line. */
  responses: Record<number, { description: string; schema?: z.ZodType; ndjson?: z.ZodType }>;
  /** Reads of one object answer an ETag; their updates take If-Match (documented). */
  etag?: 'answers' | 'if-match';
  handler: (request: AdminRequest<Infer<P>, Infer<Q>, Infer<B>>) => Promise<AdminReply>;
}
