import { WEBHOOK_EVENT_TYPES } from '../webhooks/webhook-events.ts';
import { z } from './zod.ts';

/** The Admin API's webhook shapes; the rules behind them are the service's (src/webhooks/webhook-endpoints.ts). */
const EventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length * 2)
  .openapi({ example: ['user.created', 'user.signed_in'] });

const Url = z.string().min(1).max(2048).openapi({
  description:
    'https://; http:// only to a loopback host, and private addresses only, when ALLOW_PRIVATE_NETWORK_FETCH is set.',
  example: 'https://crm.example.com/hooks/umbral',
});

const Description = z.string().max(200);

export const EndpointIdParams = z.object({ id: z.string().min(1).max(100) });

export const WebhookEndpointSchema = z
  .object({
    id: z.string().openapi({ example: 'ep_3f2c9a1b8d7e4f60a5b4c3d2e1f09876' }),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    enabled: z.boolean(),
    created_at: z.string().openapi({ format: 'date-time' }),
    updated_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('WebhookEndpoint');

export const WebhookEndpointWithSecretSchema = z
  .object({
    endpoint: WebhookEndpointSchema,
    secret: z.string().openapi({
      description: 'whsec_ and the base64 of 32 random bytes: shown in this answer only. Verifies webhook-signature.',
    }),
  })
  .openapi('WebhookEndpointWithSecret');

export const WebhookEndpointCreateSchema = z
  .object({
    url: Url,
    events: EventTypes,
    enabled: z.boolean().default(true),
    description: Description.optional(),
  })
  .strict()
  .openapi('WebhookEndpointCreate');

export const WebhookEndpointUpdateSchema = z
  .object({
    url: Url.optional(),
    events: EventTypes.optional(),
    enabled: z.boolean().optional(),
    description: Description.nullable().optional().openapi({ description: 'null removes it.' }),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'give at least one field to change' })
  .openapi('WebhookEndpointUpdate');

export const WebhookDeliverySchema = z
  .object({
    id: z.string().openapi({ description: 'The webhook-id header of every attempt.', example: 'msg_0f1e2d3c' }),
    event_type: z.enum(WEBHOOK_EVENT_TYPES),
    status: z.enum(['pending', 'sending', 'delivered', 'failed']),
    created_at: z.string().openapi({ format: 'date-time' }),
    next_attempt_at: z.string().nullable().openapi({ format: 'date-time' }),
    finished_at: z.string().nullable().openapi({ format: 'date-time' }),
    last_error: z.string().nullable(),
    attempts: z.array(
      z.object({
        attempt: z.number().int(),
        at: z.string().openapi({ format: 'date-time' }),
        status_code: z.number().int().nullable(),
        error: z.string().nullable(),
        duration_ms: z.number().int(),
      }),
    ),
  })
  .openapi('WebhookDelivery');
