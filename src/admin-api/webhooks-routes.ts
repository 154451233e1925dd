import type { Delivery } from '../webhooks/delivery-history.ts';
import {
  type ChangedBy,
  type WebhookEndpoint,
  WebhookEndpoints,
  WebhookInputError,
  WebhookNotFoundError,
  WebhookVersionMismatchError,
} from '../webhooks/webhook-endpoints.ts';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/webhook-events.ts';
import type { RegisterRoutes } from './admin-api.ts';
import type { AdminRequest } from './admin-route-spec.ts';
import { versionInIfMatch } from './etag.ts';
import { decodeCursor, encodeCursor, pageOf, pageQuery } from './pagination.ts';
import { Problem } from './problem.ts';
import {
  EndpointIdParams,
  WebhookDeliverySchema,
  WebhookEndpointCreateSchema,
  WebhookEndpointSchema,
  WebhookEndpointUpdateSchema,
  WebhookEndpointWithSecretSchema,
} from './webhooks-schemas.ts';
import { z } from './zod.ts';

const TAG = 'Webhooks';
const SCOPE = 'webhooks:write';

const ListQuery = z.object({
  ...pageQuery,
  enabled: z.enum(['true', 'false']).optional(),
  event_type: z.enum(WEBHOOK_EVENT_TYPES).optional().openapi({ description: 'Endpoints subscribed to this type.' }),
});

const DeliveriesQuery = z.object({
  ...pageQuery,
  status: z.enum(['pending', 'sending', 'delivered', 'failed']).optional(),
});

/**
 * Webhook endpoints and their deliveries' history, over the service the CLI uses
 * (src/webhooks/webhook-endpoints.ts). Deliveries are the webhooks capability's own business:
 * its worker runs in every process, whatever this API does.
 */
export const registerWebhooksRoutes: RegisterRoutes = (api, options) => {
  const endpoints = new WebhookEndpoints({
    db: options.db,
    secretBox: options.secretBox,
    audit: options.audit,
    allowPrivateNetwork: options.config.allowPrivateNetworkFetch,
    now: options.now,
  });
  const by = (request: AdminRequest<unknown, unknown, unknown>): ChangedBy => ({
    actor: request.actor,
    ...request.origin,
    expectedVersion: versionInIfMatch(request.ifMatch),
  });

  api.route({
    method: 'get',
    path: '/webhooks',
    operationId: 'listWebhookEndpoints',
    summary: 'List webhook endpoints',
    tag: TAG,
    scope: SCOPE,
    query: ListQuery,
    responses: {
      200: {
        description: 'A page of endpoints, oldest first.',
        schema: pageOf(WebhookEndpointSchema, 'WebhookPage'),
      },
    },
    handler: async ({ query }) => {
      const page = await endpoints.list({
        limit: query.limit,
        after: query.cursor ? position(decodeCursor(query.cursor)) : undefined,
        enabled: query.enabled === undefined ? undefined : query.enabled === 'true',
        eventType: query.event_type,
      });
      return {
        status: 200,
        body: {
          items: page.endpoints.map(endpointJson),
          ...(page.next ? { next_cursor: encodeCursor([page.next.createdAt, page.next.id]) } : {}),
        },
      };
    },
  });

  api.route({
    method: 'post',
    path: '/webhooks',
    operationId: 'createWebhookEndpoint',
    summary: 'Register a webhook endpoint',
    description:
      'Its secret (whsec_…) is in this answer only. Deliveries are signed as Standard Webhooks says: webhook-id, webhook-timestamp, webhook-signature.',
    tag: TAG,
    scope: SCOPE,
    body: WebhookEndpointCreateSchema,
    responses: { 201: { description: 'Registered.', schema: WebhookEndpointWithSecretSchema } },
    handler: async (request) => {
      const { endpoint, secret } = await asProblem(() => endpoints.create(request.body, by(request)));
      return {
        status: 201,
        body: { endpoint: endpointJson(endpoint), secret },
        etag: etag(endpoint),
        location: `/webhooks/${endpoint.id}`,
      };
    },
  });

  api.route({
    method: 'get',
    path: '/webhooks/{id}',
    operationId: 'getWebhookEndpoint',
    summary: 'Read a webhook endpoint',
    tag: TAG,
    scope: SCOPE,
    params: EndpointIdParams,
    etag: 'answers',
    responses: { 200: { description: 'The endpoint (never its secret).', schema: WebhookEndpointSchema } },
    handler: async ({ params }) => {
      const endpoint = await asProblem(() => endpoints.get(params.id));
      return { status: 200, body: endpointJson(endpoint), etag: etag(endpoint) };
    },
  });

  api.route({
    method: 'patch',
    path: '/webhooks/{id}',
    operationId: 'updateWebhookEndpoint',
    summary: 'Change a webhook endpoint',
    description: 'Fields given replace the stored ones. A disabled endpoint gets no new deliveries.',
    tag: TAG,
    scope: SCOPE,
    params: EndpointIdParams,
    body: WebhookEndpointUpdateSchema,
    etag: 'if-match',
    responses: { 200: { description: 'The endpoint as changed.', schema: WebhookEndpointSchema } },
    handler: async (request) => {
      const endpoint = await asProblem(() => endpoints.update(request.params.id, request.body, by(request)));
      return { status: 200, body: endpointJson(endpoint), etag: etag(endpoint) };
    },
  });

  api.route({
    method: 'delete',
    path: '/webhooks/{id}',
    operationId: 'removeWebhookEndpoint',
    summary: 'Remove a webhook endpoint, with its queued deliveries and their history',
    tag: TAG,
    scope: SCOPE,
    params: EndpointIdParams,
    etag: 'if-match',
    responses: { 204: { description: 'Removed.' } },
    handler: async (request) => {
      await asProblem(() => endpoints.remove(request.params.id, by(request)));
      return { status: 204 };
    },
  });

  api.route({
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "A webhook endpoint's deliveries, newest first, each with its attempts",
    tag: TAG,
    scope: SCOPE,
    params: EndpointIdParams,
    query: DeliveriesQuery,
    responses: {
      200: {
        description: 'A page of deliveries.',
        schema: pageOf(WebhookDeliverySchema, 'WebhookDeliveryPage'),
      },
    },
    handler: async ({ params, query }) => {
      const page = await asProblem(() =>
        endpoints.deliveries(params.id, {
          limit: query.limit,
          before: query.cursor ? position(decodeCursor(query.cursor)) : undefined,
          status: query.status,
        }),
      );
      return {
        status: 200,
        body: {
          items: page.deliveries.map(deliveryJson),
          ...(page.next ? { next_cursor: encodeCursor([page.next.createdAt, page.next.id]) } : {}),
        },
      };
    },
  });
};

/** The service's errors as problems, naming the field at fault. */
async function asProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WebhookInputError) throw Problem.field('body', `/${error.field}`, error.message);
    if (error instanceof WebhookNotFoundError) throw new Problem('not_found', error.message);
    if (error instanceof WebhookVersionMismatchError) {
      throw new Problem('precondition_failed', 'the endpoint changed since it was read: read it again and re-apply');
    }
    throw error;
  }
}

function position([createdAt, id]: [string, string]): { createdAt: string; id: string } {
  if (Number.isNaN(Date.parse(createdAt)))
    throw Problem.field('query', '/cursor', 'cursor is not one this API handed out');
  return { createdAt, id };
}

const etag = (endpoint: WebhookEndpoint) => `"${endpoint.version}"`;

function endpointJson(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    enabled: endpoint.enabled,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
  };
}

function deliveryJson(delivery: Delivery) {
  return {
    id: delivery.id,
    event_type: delivery.eventType,
    status: delivery.status,
    created_at: delivery.createdAt.toISOString(),
    next_attempt_at: delivery.nextAttemptAt?.toISOString() ?? null,
    finished_at: delivery.finishedAt?.toISOString() ?? null,
    last_error: delivery.lastError,
    attempts: delivery.attempts.map((a) => ({
      attempt: a.attempt,
      at: a.at.toISOString(),
      status_code: a.statusCode,
      error: a.error,
      duration_ms: a.durationMs,
    })),
  };
}
