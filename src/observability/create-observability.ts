import type Koa from 'koa';
import type { Config } from '../config/config.ts';
import type { Storage } from '../storage/database.ts';
import { UmbralMetrics } from './metrics.ts';
import { metricsRouter } from './metrics-endpoint.ts';

/**
 * Metrics for operators: always counted (a counter costs well under a microsecond), served on the
 * main port when METRICS_TOKEN is set, and by src/main.ts on METRICS_PORT when that is set.
 */
export function createObservability(config: Config, storage: Storage) {
  const { metricsToken, metricsPort } = config.node;
  const metrics = new UmbralMetrics({
    db: storage.db,
    poolUse: storage.poolUse,
    processMetrics: metricsToken !== undefined || metricsPort !== undefined,
  });
  return {
    metrics,
    /** /metrics behind the bearer token, when there is one. */
    mount(app: Koa): void {
      if (metricsToken) app.use(metricsRouter(metrics, metricsToken).routes());
    },
  };
}
