import { Readable } from 'node:stream';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import type Koa from 'koa';
import { originOf } from '../audit/audit-event.ts';
import { bodyParser } from '../http/body-parser.ts';
import type { Logger } from '../logging/logger.ts';
import { authenticate, authorize, type CurrentAdminScopes, type OrganizationAdminCheck } from './admin-auth.ts';
import { type AdminCaller, actorOf, callerKey } from './admin-caller.ts';
import type { AdminReply, AdminRequest, AdminRouteSpec, AnyObject, Infer } from './admin-route-spec.ts';
import { IdempotencyKeys } from './idempotency.ts';
import { describeRoute, registerSecuritySchemes } from './openapi-description.ts';
import { PROBLEM_MEDIA_TYPE, Problem, validationProblem } from './problem.ts';
import type { AdminTokenVerifier } from './token-verifier.ts';
import type { z } from './zod.ts';

export const ADMIN_API_PREFIX = '/api/admin/v1';

export interface AdminApiDependencies {
  issuer: string;
  verifier: AdminTokenVerifier;
  idempotency: IdempotencyKeys;
  isOrganizationAdmin: OrganizationAdminCheck;
  currentAdminScopes: CurrentAdminScopes;
  logger: Logger;
}

/**
 * The Admin API's router and OpenAPI registry in one: a route is registered once, with its zod
 * schemas, and those schemas both validate its requests and describe it in the OpenAPI document,
 * so the two cannot drift. Each resource registers its routes from a file of its own
 * (`clients-routes.ts`, `users-routes.ts`, …) through `route()`.
 *
 * Every route: authenticated (401), authorized (403), its path, query and body validated (400),
 * a POST's Idempotency-Key honoured, and errors answered as problem+json.
 */
export class AdminApi {
  readonly registry = new OpenAPIRegistry();
  private readonly router = new Router({ prefix: ADMIN_API_PREFIX });

  constructor(private readonly deps: AdminApiDependencies) {
    registerSecuritySchemes(this.registry, deps.issuer);
    this.router.get('/openapi.json', (ctx) => {
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = this.document();
    });
  }

  route<P extends AnyObject | undefined, Q extends AnyObject | undefined, B>(spec: AdminRouteSpec<P, Q, B>): void {
    this.registry.registerPath(describeRoute(spec));
    const koaPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    this.router[spec.method](spec.operationId, koaPath, async (ctx) => this.serve(ctx, spec));
  }

  /** The OpenAPI 3.1 document, generated from the registered routes' schemas. */
  document(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'Umbral Admin API',
        version: '1',
        description:
          'Manage portals, users, organizations, keys and the audit log. Errors are RFC 9457 problem details.',
      },
      servers: [{ url: `${this.deps.issuer}${ADMIN_API_PREFIX}` }],
    });
  }

  /** The routes the Koa router serves, as OpenAPI paths (for the test that every route is described). */
  servedRoutes(): Array<{ method: string; path: string }> {
    return this.router.stack.flatMap((layer) =>
      layer.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => ({
          method: method.toLowerCase(),
          path: String(layer.path)
            .slice(ADMIN_API_PREFIX.length)
            .replace(/:(\w+)/g, '{$1}'),
        })),
    );
  }

  /** Everything under /api/admin/v1: problem+json for every error, 404 and 405 included. */
  middleware(): Koa.Middleware {
    const routes = this.router.routes();
    return async (ctx, next) => {
      if (ctx.path !== ADMIN_API_PREFIX && !ctx.path.startsWith(`${ADMIN_API_PREFIX}/`)) return next();
      ctx.set('Cache-Control', 'no-store');
      try {
        await routes(ctx as Parameters<typeof routes>[0], async () => {});
        if (ctx.status === 404 && ctx.body === undefined) this.unmatched(ctx);
      } catch (error) {
        this.answerProblem(ctx, error);
      }
    };
  }

  /** JSON only, 256 kB at most; read once the caller is known, so strangers learn nothing from it. */
  private readonly parseJson = bodyParser({
    enableTypes: ['json'],
    jsonLimit: '256kb',
    jsonStrict: true,
    onError: (error) => {
      if ((error as { status?: number }).status === 413) {
        throw new Problem('payload_too_large', 'the body is larger than 256 kB');
      }
      throw new Problem('malformed_json', 'the body is not valid JSON');
    },
  });

  private unmatched(ctx: Koa.Context): never {
    const allowed = this.router.stack
      .filter((layer) => layer.match(ctx.path))
      .flatMap((layer) => layer.methods)
      .filter((method) => method !== 'HEAD');
    if (allowed.length) {
      throw new Problem('method_not_allowed', `${ctx.method} is not allowed here; use ${allowed.join(', ')}`, {
        headers: { Allow: [...new Set(allowed)].join(', ') },
      });
    }
    throw new Problem(
      'not_found',
      `no Admin API route ${ctx.method} ${ctx.path} (see ${ADMIN_API_PREFIX}/openapi.json)`,
    );
  }

  private answerProblem(ctx: Koa.Context, error: unknown): void {
    const problem =
      error instanceof Problem ? error : new Problem('internal', 'the request failed; the server log has the details');
    if (!(error instanceof Problem)) {
      this.deps.logger.error({ err: error, method: ctx.method, path: ctx.path }, 'admin api request failed');
    }
    for (const [name, value] of Object.entries(problem.extras.headers ?? {})) ctx.set(name, value);
    ctx.status = problem.status;
    ctx.body = problem.body(ctx.path);
    ctx.type = PROBLEM_MEDIA_TYPE;
  }

  private async serve<P extends AnyObject | undefined, Q extends AnyObject | undefined, B>(
    ctx: Koa.Context,
    spec: AdminRouteSpec<P, Q, B>,
  ): Promise<void> {
    // Who first, then what: an unauthenticated caller learns nothing of the route's input rules.
    const caller = await authenticate(ctx, this.deps.verifier, this.deps.currentAdminScopes);
    const rawParams = (ctx as unknown as { params: Record<string, string> }).params;
    await authorize(caller, spec, rawParams, this.deps.isOrganizationAdmin);
    const params = parsed('path', spec.params, rawParams);
    const query = parsed('query', spec.query, ctx.query);
    if (spec.body) {
      if (ctx.request.type && !ctx.is('json')) {
        throw new Problem('unsupported_media_type', `the body must be application/json, not ${ctx.request.type}`);
      }
      await this.parseJson(ctx, async () => {});
    }
    const rawBody = (ctx.request as { body?: unknown }).body;
    // No body at all reads as {}: a POST whose fields all have defaults needs none.
    const body = spec.body ? parsed('body', spec.body, rawBody ?? {}) : undefined;
    const request = {
      params,
      query,
      body,
      caller,
      actor: actorOf(caller),
      origin: originOf(ctx),
      ifMatch: ctx.get('if-match') || undefined,
      ctx,
    } as AdminRequest<Infer<P>, Infer<Q>, Infer<B>>;
    const key = spec.method === 'post' ? ctx.get('idempotency-key') : '';
    const reply = key
      ? await this.idempotently(caller, IdempotencyKeys.checkKey(key), ctx, rawBody, () => spec.handler(request))
      : await spec.handler(request);
    this.answer(ctx, reply);
  }

  private async idempotently(
    caller: AdminCaller,
    key: string,
    ctx: Koa.Context,
    rawBody: unknown,
    run: () => Promise<AdminReply>,
  ): Promise<AdminReply> {
    const { idempotency } = this.deps;
    const who = callerKey(caller);
    const stored = await idempotency.begin(who, key, IdempotencyKeys.requestHash(ctx.method, ctx.path, rawBody));
    if (stored) {
      ctx.set('Idempotent-Replayed', 'true');
      return stored; // a stored problem (4xx) is answered as problem+json again
    }
    try {
      const reply = await run();
      await idempotency.finish(who, key, {
        status: reply.status,
        body: reply.body,
        etag: reply.etag,
        location: reply.location,
      });
      return reply;
    } catch (error) {
      if (error instanceof Problem && error.status < 500) {
        await idempotency.finish(who, key, { status: error.status, body: error.body(ctx.path) });
      } else {
        await idempotency.abandon(who, key);
      }
      throw error;
    }
  }

  private answer(ctx: Koa.Context, reply: AdminReply): void {
    if (reply.etag) ctx.set('ETag', reply.etag);
    if (reply.location) ctx.set('Location', `${ADMIN_API_PREFIX}${reply.location}`);
    ctx.status = reply.status;
    if (reply.stream) {
      ctx.type = reply.stream.contentType;
      ctx.body = streamOf(reply.stream.lines);
      return;
    }
    if (reply.status >= 400) {
      ctx.type = PROBLEM_MEDIA_TYPE; // a replayed problem
      ctx.body = reply.body;
      return;
    }
    if (reply.body !== undefined) ctx.body = reply.body;
  }
}

function parsed(where: 'path' | 'query' | 'body', schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!result.success) throw validationProblem(where, result.error);
  return result.data;
}

/** One JSON text per line, written as the lines come: an export never sits whole in memory. */
function streamOf(lines: AsyncIterable<string>): Readable {
  return Readable.from(
    (async function* () {
      for await (const line of lines) yield `${line}\n`;
    })(),
  );
}
