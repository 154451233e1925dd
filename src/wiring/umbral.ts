import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { AdminApi } from '../admin-api/admin-router.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientCache } from '../clients/client-cache.ts';
import type { Mfa } from '../mfa/mfa.ts';
import type { QueuedMailer } from '../notify/create-mailer.ts';
import type { UmbralMetrics } from '../observability/metrics.ts';
import type { ContractScheduler } from '../organizations/contract-scheduler.ts';
import type { Insights } from '../organizations/insights.ts';
import type { SessionTerminator } from '../sessions/session-terminator.ts';
import type { Storage } from '../storage/database.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import type { UserAdministration } from '../users/user-administration.ts';
import type { Webhooks } from '../webhooks/create-webhooks.ts';

/** A running Umbral as src/app.ts assembles it: the app, and the parts tests and main.ts reach. */
export interface Umbral {
  app: Koa;
  provider: Provider;
  storage: Storage;
  throttle: LoginThrottle;
  mailer: QueuedMailer;
  /** Ends sessions on the user's behalf; `settled()` waits for its back-channel deliveries. */
  terminator: SessionTerminator;
  /** Second factors: enrolled factors, recovery codes, remembered devices (src/mfa). */
  mfa: Mfa;
  /** Companies' contract events (src/organizations); `runOnce()` lets tests drive it. */
  contracts: ContractScheduler;
  /** Security-relevant events (src/audit): buffered, flushed every second and at close. */
  audit: AuditLog;
  /** Prometheus metrics (src/observability); `reportWebhookQueue` is where a webhook queue reports its depth. */
  metrics: UmbralMetrics;
  /** Registered clients in memory: `invalidate(clientId)` drops one here; `notifyClientChanged` (src/clients/client-changes.ts) on every node. */
  clientCache: ClientCache;
  /** Company admins' insights (src/organizations/insights.ts): sign-in events, the company step, notices, weekly summary. */
  insights: Insights;
  /** Users' administration (src/users/user-administration.ts): the Admin API's and console's service. */
  userAdministration: UserAdministration;
  /** The Admin API at /api/admin/v1 (src/admin-api): its routes and OpenAPI document. */
  adminApi: AdminApi;
  /** Webhook endpoints, the delivery queue and this process's worker (src/webhooks). */
  webhooks: Webhooks;
  close(): Promise<void>;
}

export interface UmbralOptions {
  /** Milliseconds since the epoch, for the login throttle, the refresh-token reuse grace and companies' contract dates (tests move it). */
  now?: () => number;
}
