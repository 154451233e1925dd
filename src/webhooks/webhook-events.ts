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

// Every listed type has a payload, and every payload a listed type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _everyTypeHasAPayload: Same<WebhookEventType, keyof WebhookEventPayloads> = true;
void _everyTypeHasAPayload;

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * The `data` of each event type: ids, emails, names, methods; never a password, secret, token or
 * code. Ids are Umbral's (a user's is the `sub` of its tokens). Adding a field is compatible;
 * renaming or removing one is not.
 */
export interface WebhookEventPayloads {
  /** `source`: who opened the account (an operator, the sign-up form, an upstream provider, the Admin API). */
  'user.created': {
    user_id: string;
    email: string;
    name: string | null;
    email_verified: boolean;
    source: 'operator' | 'sign_up' | 'federation' | 'admin_api';
  };
  /** `amr`: the methods of the sign-in (pwd, otp, hwk, fed…); `client_id`: the portal. */
  'user.signed_in': { user_id: string; amr: string[]; client_id: string; organization_id: string | null };
  'user.email_changed': { user_id: string; email: string; previous_email: string };
  'user.disabled': { user_id: string };
  'user.deleted': { user_id: string };
  'org.member_added': { organization_id: string; user_id: string; roles: string[] };
  'org.member_removed': { organization_id: string; user_id: string };
  'org.activated': { organization_id: string; slug: string; name: string };
  'org.ended': { organization_id: string; slug: string; name: string };
}

export type WebhookEventData = WebhookEventPayloads[WebhookEventType];

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
  emit<T extends WebhookEventType>(type: T, data: WebhookEventPayloads[T], within?: WebhookExecutor): Promise<void>;
}

/** Events that go nowhere: for code run without webhooks (tests of one capability). */
export const NO_WEBHOOK_EVENTS: WebhookEvents = { emit: async () => {} };
