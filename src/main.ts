import cluster from 'node:cluster';
import http from 'node:http';
import { createUmbral } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config/config.ts';
import { releaseHeapWhenIdle, startIdleHeapRelease } from './http/idle-heap-release.ts';
import { shutdownOnClose } from './http/server-shutdown.ts';
import { reportToPrimary, runPrimary } from './http/worker-cluster.ts';
import { createLogger, type Logger } from './logging/logger.ts';
import { serveMetricsPort } from './observability/metrics-endpoint.ts';

/** `npm start`: serve Umbral until SIGTERM or SIGINT, then finish in-flight requests and close storage. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`umbral: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  // WEB_CONCURRENCY=N: this process only forks and watches N workers (src/http/worker-cluster.ts).
  if (config.node.webConcurrency > 1 && cluster.isPrimary) return runPrimary(config, logger);
  await serve(config, cluster.isWorker ? logger.child({ worker: cluster.worker?.id }) : logger);
}

async function serve(config: Config, logger: Logger): Promise<void> {
  const umbral = await createUmbral(config, logger);
  const server = http.createServer(umbral.app.callback());
  server.keepAliveTimeout = 65_000; // longer than common proxies' idle timeouts
  const shutdown = shutdownOnClose(server);
  // From 1–2 s after the last request, when its RSS grew 8 MB since the last round (idle-heap-release.ts).
  const heapRelease = startIdleHeapRelease({ idleMs: 2000, minGrowthBytes: 8 * 1024 * 1024 });
  releaseHeapWhenIdle(server, heapRelease);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.node.host, resolve);
  });
  let metricsServer: { close(): Promise<void> } | undefined;
  if (cluster.isWorker) reportToPrimary(umbral.metrics);
  else if (config.node.metricsPort) {
    metricsServer = await serveMetricsPort(
      async () => ({ contentType: umbral.metrics.registry.contentType, body: await umbral.metrics.scrape() }),
      config.node.metricsPort,
      config.node.host,
    );
  }
  logger.info(
    { issuer: config.issuer, port: config.port, host: config.node.host, database: umbral.storage.kind },
    `Umbral listening on ${config.issuer}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => {
      logger.error('shutdown took over 10 s; exiting');
      process.exit(1);
    }, 10_000);
    forced.unref();
    // Idle connections close now; requests in flight finish, answered with `Connection: close`.
    heapRelease.stop();
    await shutdown.close();
    await metricsServer?.close();
    await umbral.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`umbral: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
