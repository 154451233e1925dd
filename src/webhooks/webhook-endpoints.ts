import { createHash, randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AuditActor, AuditOrigin, AuditTrail } from '../audit/audit-event.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../storage/schema.ts';
import { type DeliveryPage, type DeliveryQuery, deliveriesOf } from './delivery-history.ts';
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

/** An update or removal that named a version (If-Match) other than the current one. */
export class WebhookVersionMismatchError extends Error {
  constructor(readonly id: string) {
    super(`webhook endpoint ${id} changed since it was read`);
    this.name = 'WebhookVersionMismatchError';
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
  /** Changes whenever the endpoint does: its ETag. */
  version: string;
}

/** Who changes something, for the audit log; with `expectedVersion`, only that version is changed. */
export interface ChangedBy extends AuditOrigin {
  actor: AuditActor;
  expectedVersion?: string | undefined;
}

export interface EndpointQuery {
  /** Default: all. */
  limit?: number | undefined;
  /** The `next` of the previous page. */
  after?: { createdAt: string; id: string } | undefined;
  enabled?: boolean | undefined;
  /** Endpoints subscribed to this type. */
  eventType?: WebhookEventType | undefined;
}

export interface EndpointPage {
  endpoints: WebhookEndpoint[];
  /** Absent on the last page. */
  next?: { createdAt: string; id: string };
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

  /** Oldest first, filtered; a page of `limit` when given. */
  async list(query: EndpointQuery = {}): Promise<EndpointPage> {
    let select = this.options.db.selectFrom('webhook_endpoints').selectAll();
    if (query.enabled !== undefined) select = select.where('enabled', '=', query.enabled);
    if (query.eventType)
      select = select.where(sql<boolean>`event_types @> ${JSON.stringify([query.eventType])}::jsonb`);
    if (query.after) {
      select = select.where(sql<boolean>`(created_at, id) > (${new Date(query.after.createdAt)}, ${query.after.id})`);
    }
    select = select.orderBy('created_at').orderBy('id');
    const rows = await (query.limit === undefined ? select : select.limit(query.limit + 1)).execute();
    const endpoints = rows.slice(0, query.limit ?? rows.length).map(toEndpoint);
    const last = endpoints.at(-1);
    return query.limit !== undefined && rows.length > query.limit && last
      ? { endpoints, next: { createdAt: last.createdAt.toISOString(), id: last.id } }
      : { endpoints };
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
    const { before, after } = await this.options.db.transaction().execute(async (trx) => {
      const before = await this.current(trx, id, by);
      if (!Object.keys(set).length) return { before, after: before };
      const row = await trx
        .updateTable('webhook_endpoints')
        .set({ ...set, updated_at: new Date(this.now()) })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { before, after: toEndpoint(row) };
    });
    if (after !== before)
      this.record('webhook.endpoint_updated', by, { before: summary(before), after: summary(after) });
    return after;
  }

  /** Removes the endpoint with its queued deliveries and their history. */
  async remove(id: string, by: ChangedBy): Promise<void> {
    const removed = await this.options.db.transaction().execute(async (trx) => {
      const current = await this.current(trx, id, by);
      await trx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
      return current;
    });
    this.record('webhook.endpoint_removed', by, { endpoint: summary(removed) });
  }

  /** The endpoint's deliveries, newest first, each with its attempts. */
  async deliveries(id: string, query: DeliveryQuery = {}): Promise<DeliveryPage> {
    await this.row(id);
    return deliveriesOf(this.options.db, id, query);
  }

  /** The row locked for this transaction, at the version the caller expects (If-Match). */
  private async current(trx: Transaction<Database>, id: string, by: ChangedBy): Promise<WebhookEndpoint> {
    const row = await trx
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw new WebhookNotFoundError(id);
    const endpoint = toEndpoint(row);
    if (by.expectedVersion !== undefined && by.expectedVersion !== endpoint.version) {
      throw new WebhookVersionMismatchError(id);
    }
    return endpoint;
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
  const state = {
    id: row.id,
    url: row.url,
    description: row.description,
    events: events.filter(isWebhookEventType),
    enabled: row.enabled,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
  const version = createHash('sha256').update(JSON.stringify(state)).digest('base64url').slice(0, 22);
  return { ...state, version };
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
