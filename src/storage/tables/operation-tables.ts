import type { ColumnType, Generated } from 'kysely';
import type { Json, Timestamp } from './column-types.ts';

// What operators run on: the mail queue, the audit log, operators, Admin API idempotency, webhooks.

/** Outgoing email (see src/notify/mail-queue.ts). */
export interface MailQueueTable {
  id: string;
  to_address: string;
  template: string;
  locale: string;
  data: Json<Record<string, string | number | boolean | null>>;
  /** pending | sending | sent | failed */
  status: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
  created_at: Generated<Date>;
  sent_at: Date | null;
  /** Rendered copy, kept only by the dev outbox. */
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
}

/** One security-relevant event (src/audit/audit-log.ts); `data` never holds a secret. */
export interface AuditEventTable {
  id: string;
  occurred_at: Timestamp;
  type: string;
  /** user | operator | client | system */
  actor_kind: string;
  actor_id: string | null;
  subject_user_id: string | null;
  organization_id: string | null;
  ip: string | null;
  user_agent: string | null;
  data: Json;
}

/** A person granted the operator console (src/admin-console/operators.ts). */
export interface OperatorTable {
  user_id: string;
  granted_at: Generated<Date>;
  /** The CLI operator who granted it. */
  granted_by: string | null;
}

/** An Admin API answer to a POST with an Idempotency-Key (src/admin-api/idempotency.ts), kept 24 hours. */
export interface AdminIdempotencyKeyTable {
  /** Who sent it: `client:<id>` or `user:<id>`. */
  caller: string;
  key: string;
  request_hash: string;
  /** Null while the first request is still being answered. */
  status: number | null;
  /** The answer's body, sealed with SECRET_ENCRYPTION_KEY: it may hold a secret shown once. */
  response: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

/** A registered webhook endpoint (src/webhooks). */
export interface WebhookEndpointTable {
  id: string;
  url: string;
  description: string | null;
  /** A JSON array of event types, e.g. ["user.signed_in"]. */
  event_types: Json<string[]>;
  enabled: boolean;
  /** The `whsec_…` secret, sealed with the SecretBox (context `webhook-endpoint:<id>`). */
  secret_sealed: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** One event to one endpoint; `id` is its `webhook-id`, `payload` the exact body signed. */
export interface WebhookDeliveryTable {
  id: string;
  endpoint_id: string;
  event_type: string;
  payload: string;
  /** pending | sending | delivered | failed */
  status: ColumnType<string, string | undefined, string>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  created_at: Timestamp;
  finished_at: Timestamp | null;
  last_error: string | null;
}

/** One POST of a delivery. */
export interface WebhookAttemptTable {
  delivery_id: string;
  attempt: number;
  attempted_at: Timestamp;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}
