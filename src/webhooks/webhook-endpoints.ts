import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditActor, AuditOrigin, AuditTrail } from '../audit/audit-event.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../storage/schema.ts';
import { type Delivery, deliveriesOf } from './delivery-history.ts';
import { endpointSecretContext, newEndpointSecret } from './endpoint-secret.ts';
import { endpointUrlProblem } from './endpoint-url.ts';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.ts';

/** A value refused, with the field it belongs to (the CLI's option, the API's body field). */
export class WebhookInputError extends Error {
  constructor(
    readonly field: 'url' | 'events' | 'description',
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'WebhookInputError';
  }
}

export class WebhookNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`no webhook endpoint has the id ${id}`);
    this.name = 'WebhookNotFoundError';
  }
}

export interface EndpointInput {
  url: string;
  events: readonly string[];
  enabled?: boolean | undefined;
  description?: string | null | undefined;
}

export type EndpointChanges = Partial<EndpointInput>;

/** An endpoint as shown: never its secret. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Who changes something, for the audit log. */
export interface ChangedBy extends AuditOrigin {
  actor: AuditActor;
}

export interface WebhookEndpointsOptions {
  db: Kysely<Database>;
  secretBox: SecretBox;
  audit: AuditTrail;
  /** ALLOW_PRIVATE_NETWORK_FETCH. */
  allowPrivateNetwork: boolean;
  now?: () => number;
}

type EndpointRow = Awaited<ReturnType<WebhookEndpoints['row']>>;

/**
 * Webhook endpoints: the one service layer under the CLI (`umbral webhooks …`) and the Admin API.
 * Every value is checked before anything is written, so a refused one changes nothing; every
 * change is recorded in the audit log with its actor (the URL without its query, which may hold
 * a receiver's token). The secret is made here, returned once by `create`, and kept sealed.
 */
export class WebhookEndpoints {
  private readonly now: () => number;

  constructor(private readonly options: WebhookEndpointsOptions) {
    this.now = options.now ?? Date.now;
  }

  async create(input: EndpointInput, by: ChangedBy): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = this.checkedUrl(input.url);
    const events = checkedEvents(input.events);
    const description = checkedDescription(input.description);
    const id = `ep_${randomUUID().replaceAll('-', '')}`;
    const secret = newEndpointSecret();
    const at = new Date(this.now());
    const row = await this.options.db
      .insertInto('webhook_endpoints')
      .values({
        id,
        url,
        description,
        event_types: JSON.stringify(events),
        enabled: input.enabled ?? true,
        secret_sealed: this.options.secretBox.seal(secret, endpointSecretContext(id)),
        created_at: at,
        updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const endpoint = toEndpoint(row);
    this.record('webhook.endpoint_added', by, { endpoint: summary(endpoint) });
    return { endpoint, secret };
  }

  async list(): Promise<WebhookEndpoint[]> {
    const rows = await this.options.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toEndpoint);
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return toEndpoint(await this.row(id));
  }

  /** Changes what is given; an empty change changes nothing and records nothing. */
  async update(id: string, changes: EndpointChanges, by: ChangedBy): Promise<WebhookEndpoint> {
    const set: { url?: string; event_types?: string; enabled?: boolean; description?: string | null } = {};
    if (changes.url !== undefined) set.url = this.checkedUrl(changes.url);
    if (changes.events !== undefined) set.event_types = JSON.stringify(checkedEvents(changes.events));
    if (changes.enabled !== undefined) set.enabled = changes.enabled;
    if (changes.description !== undefined) set.description = checkedDescription(changes.description);
    const before = toEndpoint(await this.row(id));
    if (!Object.keys(set).length) return before;
    const row = await this.options.db
      .updateTable('webhook_endpoints')
      .set({ ...set, updated_at: new Date(this.now()) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new WebhookNotFoundError(id);
    const after = toEndpoint(row);
    this.record('webhook.endpoint_updated', by, { before: summary(before), after: summary(after) });
    return after;
  }

  /** Removes the endpoint with its queued deliveries and their history. */
  async remove(id: string, by: ChangedBy): Promise<void> {
    const row = await this.options.db
      .deleteFrom('webhook_endpoints')
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new WebhookNotFoundError(id);
    this.record('webhook.endpoint_removed', by, { endpoint: summary(toEndpoint(row)) });
  }

  /** The endpoint's deliveries, newest first, each with its attempts. */
  async deliveries(id: string, limit?: number): Promise<Delivery[]> {
    await this.row(id);
    return deliveriesOf(this.options.db, id, limit);
  }

  private async row(id: string) {
    const row = await this.options.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new WebhookNotFoundError(id);
    return row;
  }

  private checkedUrl(raw: string): string {
    const problem = endpointUrlProblem(raw.trim(), this.options.allowPrivateNetwork);
    if (problem) throw new WebhookInputError('url', problem);
    return new URL(raw.trim()).href;
  }

  private record(type: string, by: ChangedBy, data: Record<string, unknown>): void {
    this.options.audit.record({ type, actor: by.actor, ip: by.ip, userAgent: by.userAgent, data });
  }
}

function checkedEvents(values: readonly string[]): WebhookEventType[] {
  const events = [...new Set(values.map((value) => value.trim()).filter(Boolean))];
  if (!events.length)
    throw new WebhookInputError('events', `must name at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  const unknown = events.filter((event) => !isWebhookEventType(event));
  if (unknown.length) {
    throw new WebhookInputError(
      'events',
      `has unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.map((e) => `"${e}"`).join(', ')}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    );
  }
  return (events as WebhookEventType[]).sort();
}

function checkedDescription(value: string | null | undefined): string | null {
  const text = value?.trim();
  if (!text) return null;
  if (text.length > 200) throw new WebhookInputError('description', 'must be at most 200 characters');
  return text;
}

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  const events = (typeof row.event_types === 'string' ? JSON.parse(row.event_types) : row.event_types) as string[];
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: events.filter(isWebhookEventType),
    enabled: row.enabled,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** What the audit log keeps of an endpoint: the URL without query, events, enabled. */
function summary(endpoint: WebhookEndpoint): Record<string, unknown> {
  const url = new URL(endpoint.url);
  return {
    id: endpoint.id,
    url: `${url.origin}${url.pathname}`,
    events: endpoint.events,
    enabled: endpoint.enabled,
  };
}
