import http from 'node:http';
import { createUmbral } from './app.ts';
import { ConfigError, loadConfig } from './config/config.ts';
import { shutdownOnClose } from './http/server-shutdown.ts';
import { createLogger } from './logging/logger.ts';

/** `npm start`: serve Umbral until SIGTERM or SIGINT, then finish in-flight requests and close storage. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
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
  const umbral = await createUmbral(config, logger);
  const server = http.createServer(umbral.app.callback());
  server.keepAliveTimeout = 65_000; // longer than common proxies' idle timeouts
  const shutdown = shutdownOnClose(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  logger.info(
    { issuer: config.issuer, port: config.port, database: umbral.storage.kind },
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
    await shutdown.close();
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
