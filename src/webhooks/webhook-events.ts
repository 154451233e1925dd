/**
 * The webhooks' vocabulary: what a capability hands over when something an operator's systems
 * may want to hear about happens. Capabilities depend on this leaf module only (as on
 * src/audit/audit-event.ts), never on the queue; src/app.ts passes the queue in.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../storage/schema.ts';

/** Every event type an endpoint may subscribe to. Stable: operators' systems match on them. */
export const WEBHOOK_EVENT_TYPES = [
  'user.created',
  'user.signed_in',
  'user.email_changed',
  'user.disabled',
  'user.deleted',
  'org.member_added',
  'org.member_removed',
  'org.activated',
  'org.ended',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** The event's `data`: ids, emails, names, methods. Never a password, secret, token or code. */
export type WebhookEventData = Record<string, unknown>;

/** A database handle or a transaction of it: where the enqueue's insert runs. */
export type WebhookExecutor = Kysely<Database> | Transaction<Database>;

/** Where events go. */
export interface WebhookEvents {
  /**
   * Queues the event for every enabled endpoint subscribed to its type: one insert, no HTTP.
   * With `within` (the step's transaction) the deliveries commit or roll back with the change,
   * and a failure rejects (so does the transaction). Without it the insert starts at once and
   * the caller need not wait: it never rejects (a failure is logged).
   */
  emit(type: WebhookEventType, data: WebhookEventData, within?: WebhookExecutor): Promise<void>;
}

/** Events that go nowhere: for code run without webhooks (tests of one capability). */
export const NO_WEBHOOK_EVENTS: WebhookEvents = { emit: async () => {} };
