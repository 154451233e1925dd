import type Provider from 'oidc-provider';
import { purgeExpired } from '../../adapters/postgres-adapter.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { Mfa } from '../mfa/mfa.ts';
import type { Companies } from '../organizations/companies.ts';
import type { ContractScheduler } from '../organizations/contract-scheduler.ts';
import type { Insights } from '../organizations/insights.ts';
import type { RefreshRotations } from '../provider/refresh-rotations.ts';
import { purgeSessionLeftovers } from '../sessions/session-activity.ts';
import type { Storage } from '../storage/database.ts';
import { startPurgeTimer } from '../storage/purge-timer.ts';
import { purgeExpiredThrottle } from '../throttling/login-throttle.ts';
import { purgeExpiredAccountTokens } from '../users/account-tokens.ts';
import type { Webhooks } from '../webhooks/create-webhooks.ts';

export interface BackgroundWork {
  /** Companies' contract events; `runOnce()` lets tests drive them. */
  contracts: ContractScheduler;
  stop(): Promise<void>;
}

/**
 * What every process does besides answering requests, each once across processes where it must
 * be (the schedulers claim their rows with SKIP LOCKED): companies' contract dates, the weekly
 * summary, webhook deliveries, and the purge of whatever has expired.
 */
export function startBackgroundWork(deps: {
  config: Config;
  storage: Storage;
  logger: Logger;
  provider: Provider;
  companies: Companies;
  insights: Insights;
  webhooks: Webhooks;
  mfa: Mfa;
  audit: AuditLog;
  refreshRotations: RefreshRotations;
}): BackgroundWork {
  const { config, storage, logger, companies, insights, webhooks, mfa, audit, refreshRotations } = deps;
  // Companies' contract dates: welcome, end warning and end.
  const contracts = companies.contracts(deps.provider);
  contracts.start(config.orgSchedulerIntervalSeconds);
  // Company admins' weekly summary, on the same interval.
  insights.start();
  // Webhook deliveries queued by any process (or left by a restart), and their retries.
  webhooks.worker.start();

  const purge = startPurgeTimer(logger, config.purgeIntervalSeconds, {
    oidcRows: () => purgeExpired(storage.db),
    throttleRows: () => purgeExpiredThrottle(storage.db),
    sessionRows: () => purgeSessionLeftovers(storage.db),
    accountTokenRows: () => purgeExpiredAccountTokens(storage.db),
    mfaRows: () => mfa.purgeExpired(),
    rotationResponses: () => refreshRotations.forgetSpent(),
    organizationRows: () => companies.signIn.purgeExpired(),
    auditEvents: () => audit.purgeExpired(config.auditRetentionDays),
    signInEvents: insights.purgeExpired,
    webhookDeliveries: () => webhooks.purgeFinished(),
  });

  return {
    contracts,
    async stop() {
      purge.stop();
      await contracts.stop();
    },
  };
}
