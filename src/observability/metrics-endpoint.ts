import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import Router from '@koa/router';
import type { UmbralMetrics } from './metrics.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** True when `header` is `Bearer <token>`; compared over digests, in constant time whatever the lengths. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (\S+)$/i.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(presented), digest(token));
}

/** GET /metrics on the main port, for whoever presents METRICS_TOKEN as a bearer token. */
export function metricsRouter(metrics: UmbralMetrics, token: string): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (!bearerMatches(ctx.get('authorization'), token)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'invalid_token' };
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.scrape();
  });
  return router;
}

/**
 * /metrics on a port of its own (METRICS_PORT), without a token: for a scraper on a private network.
 * `scrape` is this process's metrics, or (WEB_CONCURRENCY > 1) every worker's, gathered by the primary.
 */
export async function serveMetricsPort(
  scrape: () => Promise<{ contentType: string; body: string }>,
  port: number,
  host: string | undefined,
): Promise<{ close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    scrape().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
