import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { AdminRouteSpec } from './admin-route-spec.ts';
import { ADMIN_SCOPES, ORG_ADMIN_SCOPE } from './admin-scopes.ts';
import { PROBLEM_MEDIA_TYPE, PROBLEMS, ProblemSchema } from './problem.ts';
import { z } from './zod.ts';

/**
 * How a registered route reads in the OpenAPI document: its schemas (the ones that validate it),
 * its scopes, the headers it takes (Idempotency-Key, If-Match) and the problems it may answer.
 */

type AnyObject = z.ZodObject<z.ZodRawShape>;
type Method = AdminRouteSpec<undefined, undefined, unknown>['method'];

const ERROR_RESPONSES: Record<number, string> = {
  400: 'Invalid input: a problem with the invalid fields (urn:umbral:problem:validation).',
  401: 'No token, or a bad, expired or wrong-audience one.',
  403: 'The token lacks the scope (or the organization) this needs.',
  404: 'No such object.',
};

/** The two ways to a token: a client's client_credentials, and a company admin's authorization code. */
export function registerSecuritySchemes(registry: OpenAPIRegistry, issuer: string): void {
  registry.registerComponent('securitySchemes', 'client', {
    type: 'oauth2',
    description: 'A client registered with --admin-scopes: client_credentials with resource=urn:umbral:admin.',
    flows: {
      clientCredentials: {
        tokenUrl: `${issuer}/token`,
        scopes: Object.fromEntries(ADMIN_SCOPES.map((scope) => [scope, scope])),
      },
    },
  });
  registry.registerComponent('securitySchemes', 'companyAdmin', {
    type: 'oauth2',
    description:
      "A company admin's own token: authorization code with scope org:admin, organization=<id> and resource=urn:umbral:admin.",
    flows: {
      authorizationCode: {
        authorizationUrl: `${issuer}/auth`,
        tokenUrl: `${issuer}/token`,
        scopes: { [ORG_ADMIN_SCOPE]: 'Manage the organization named in the authorization' },
      },
    },
  });
}

export function describeRoute<P extends AnyObject | undefined, Q extends AnyObject | undefined, B>(
  spec: AdminRouteSpec<P, Q, B>,
): RouteConfig {
  const responses: RouteConfig['responses'] = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const headers =
      spec.etag && Number(status) < 300
        ? {
            ETag: {
              description: 'The current state: send it as If-Match to update.',
              schema: { type: 'string' as const },
            },
          }
        : undefined;
    responses[status] = {
      description: response.description,
      ...(headers ? { headers } : {}),
      ...(response.schema || response.ndjson
        ? {
            content: {
              ...(response.schema ? { 'application/json': { schema: response.schema } } : {}),
              ...(response.ndjson ? { 'application/x-ndjson': { schema: response.ndjson } } : {}),
            },
          }
        : {}),
    };
  }
  const problem = (description: string) => ({
    description,
    content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemSchema } },
  });
  for (const [status, description] of Object.entries(ERROR_RESPONSES)) responses[status] ??= problem(description);
  if (spec.etag === 'if-match') responses['412'] = problem(PROBLEMS.precondition_failed.title);
  if (spec.method === 'post') responses['422'] = problem(PROBLEMS.idempotency_key_reused.title);
  const headers = requestHeaders(spec);
  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: [{ client: [spec.scope] }, ...(spec.organizationParam ? [{ companyAdmin: [ORG_ADMIN_SCOPE] }] : [])],
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body
        ? // Optional when every field has a default (no body reads as {}).
          {
            body: {
              required: !spec.body.safeParse({}).success,
              content: { 'application/json': { schema: spec.body } },
            },
          }
        : {}),
      ...(headers ? { headers } : {}),
    },
    responses,
  };
}

function requestHeaders(spec: { method: Method; etag?: 'answers' | 'if-match' }): AnyObject | undefined {
  if (spec.method === 'post') {
    return z.object({
      'Idempotency-Key': z.string().min(1).max(255).optional().openapi({
        description: 'The same key and body answer the first answer again, without a second object (kept 24 hours).',
      }),
    });
  }
  if (spec.etag === 'if-match') {
    return z.object({
      'If-Match': z
        .string()
        .optional()
        .openapi({ description: 'The ETag last read: when the object changed since, 412 and nothing changes.' }),
    });
  }
  return undefined;
}
