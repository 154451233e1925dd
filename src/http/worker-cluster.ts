import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { UmbralMetrics } from '../observability/metrics.ts';
import { serveMetricsPort } from '../observability/metrics-endpoint.ts';

/** A worker that dies within this long of its start is not restarted at once (a crash loop). */
const RESTART_BACKOFF_MS = 1000;
const STOP_TIMEOUT_MS = 12_000;

/**
 * WEB_CONCURRENCY=N: the primary forks N workers, each a whole Umbral server on the same port
 * (node:cluster hands connections out in turn). The primary serves nothing itself but METRICS_PORT,
 * where it sums every worker's metrics. A worker that dies is replaced; at SIGTERM or SIGINT each
 * worker drains its requests and stops (src/main.ts), and the primary exits once all have.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const count = config.node.webConcurrency;
  let stopping = false;
  const started = new Map<number, number>();
  const fork = (): Worker => {
    const worker = cluster.fork();
    started.set(worker.id, Date.now());
    return worker;
  };
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (started.get(worker.id) ?? 0);
    started.delete(worker.id);
    if (stopping) return;
    logger.error({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
    setTimeout(() => !stopping && fork(), lived < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0).unref();
  });
  const aggregator = new AggregatorRegistry();
  const metricsServer = config.node.metricsPort
    ? await serveMetricsPort(
        async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
        config.node.metricsPort,
        config.node.host,
      )
    : undefined;
  for (let i = 0; i < count; i++) fork();
  logger.info({ workers: count, port: config.port }, 'primary started its workers');

  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exits = workers.map((w) => new Promise<number>((resolve) => w.once('exit', (code) => resolve(code ?? 1))));
    for (const w of workers) w.process.kill(signal);
    const forced = setTimeout(() => {
      logger.error('workers did not stop in time; exiting');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    forced.unref();
    const codes = await Promise.all(exits);
    await metricsServer?.close();
    process.exit(codes.every((c) => c === 0) ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** In a worker: the primary's METRICS_PORT gathers this registry. */
export function reportToPrimary(metrics: UmbralMetrics): void {
  new AggregatorRegistry(); // answers the primary's requests for this worker's metrics
  AggregatorRegistry.setRegistries([metrics.registry]);
}

export const isClusterWorker = () => cluster.isWorker;
