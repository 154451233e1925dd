import type { Kysely } from 'kysely';
import type { AuditTrail } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { type WebhookQueueStats, webhookQueueStats } from './queue-stats.ts';
import { WebhookEndpoints } from './webhook-endpoints.ts';
import { WebhookEventQueue } from './webhook-event-queue.ts';
import type { WebhookEvents } from './webhook-events.ts';
import { WebhookQueue } from './webhook-queue.ts';
import { httpTransport, type WebhookTransport } from './webhook-transport.ts';
import { WebhookWorker } from './webhook-worker.ts';

/** Finished deliveries and their attempts stay this long in the history. */
const KEEP_FINISHED_DAYS = 30;

export interface Webhooks {
  /** What capabilities emit to. */
  events: WebhookEvents;
  /** Hears the sign-in pipeline's completed sign-ins (its `recordingTo` listeners): `user.signed_in`. */
  signIns: {
    signedIn(login: {
      accountId: string;
      amr: readonly string[];
      organizationId: string | null;
      clientId: string;
    }): void;
  };
  /** Endpoints and their history: the service under the Admin API. */
  endpoints: WebhookEndpoints;
  /** This process's delivery worker (src/app.ts starts it); `runOnce()` lets tests drive it. */
  worker: WebhookWorker;
  /** Queue depth and failures, for metrics. */
  stats(): Promise<WebhookQueueStats>;
  /** Deletes deliveries finished more than 30 days ago (the purge timer). */
  purgeFinished(): Promise<number>;
  /** Waits for events being queued and the worker's run under way. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** The webhooks capability: events queued, then delivered by every process's worker (not started). */
export function createWebhooks(deps: {
  config: Pick<Config, 'allowPrivateNetworkFetch' | 'webhookRetryBaseSeconds'>;
  db: Kysely<Database>;
  secretBox: SecretBox;
  logger: Logger;
  audit: AuditTrail;
  now?: (() => number) | undefined;
  /** Replaces the HTTP client (tests of the worker alone). */
  transport?: WebhookTransport;
}): Webhooks {
  const now = deps.now ?? Date.now;
  const queue = new WebhookQueue(deps.db, now);
  const worker = new WebhookWorker({
    queue,
    secretBox: deps.secretBox,
    transport: deps.transport ?? httpTransport({ allowPrivateNetwork: deps.config.allowPrivateNetworkFetch }),
    logger: deps.logger,
    retryBaseSeconds: deps.config.webhookRetryBaseSeconds,
    now,
  });
  const events = new WebhookEventQueue(queue, deps.logger, () => worker.wake());
  return {
    events,
    signIns: {
      // Not awaited: the sign-in does not wait for the queue's insert (emit never rejects without a transaction).
      signedIn: (login) =>
        void events.emit('user.signed_in', {
          user_id: login.accountId,
          amr: [...login.amr],
          client_id: login.clientId,
          organization_id: login.organizationId,
        }),
    },
    endpoints: new WebhookEndpoints({
      db: deps.db,
      secretBox: deps.secretBox,
      audit: deps.audit,
      allowPrivateNetwork: deps.config.allowPrivateNetworkFetch,
      now,
    }),
    worker,
    stats: () => webhookQueueStats(deps.db, now),
    purgeFinished: () => queue.purgeFinished(KEEP_FINISHED_DAYS),
    async settled() {
      await events.settled();
      await worker.settled();
    },
    async close() {
      await events.settled();
      await worker.stop();
    },
  };
}
