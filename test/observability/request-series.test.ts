import test from 'ava';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { RequestSeries } from '../../src/observability/request-series.ts';

const BUCKETS = [0.001, 0.01, 0.1];

/** What prom-client's own Counter and Histogram print for the same requests: the reference. */
async function reference(requests: Array<[string, string, number, number]>): Promise<string> {
  const registry = new Registry();
  const counter = new Counter({
    name: 'umbral_http_requests_total',
    help: 'HTTP requests answered, by route template and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'umbral_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route template',
    labelNames: ['method', 'route'],
    buckets: BUCKETS,
    registers: [registry],
  });
  for (const [method, route, status, seconds] of requests) {
    counter.inc({ method, route, status: String(status) });
    histogram.observe({ method, route }, seconds);
  }
  return registry.metrics();
}

const REQUESTS: Array<[string, string, number, number]> = [
  ['POST', '/token', 200, 0.0005],
  ['POST', '/token', 200, 0.004],
  ['POST', '/token', 400, 0.05],
  ['POST', '/token', 200, 0.3],
  ['GET', '/interaction/:uid', 200, 0.01],
];

test('the exposition is the one prom-client Counter and Histogram gave for the same requests', async (t) => {
  const registry = new Registry();
  const series = new RequestSeries(registry, BUCKETS);
  for (const [method, route, status, seconds] of REQUESTS) series.record(method, route, status, seconds);
  const lines = (text: string) => text.split('\n').filter(Boolean).sort();
  t.deepEqual(lines(await registry.metrics()), lines(await reference(REQUESTS)));
});

test('the workers of WEB_CONCURRENCY add up, as prom-client aggregates its own metrics', async (t) => {
  const worker = async (requests: typeof REQUESTS) => {
    const registry = new Registry();
    const series = new RequestSeries(registry, BUCKETS);
    for (const [method, route, status, seconds] of requests) series.record(method, route, status, seconds);
    return registry.getMetricsAsJSON();
  };
  const aggregated = AggregatorRegistry.aggregate([await worker(REQUESTS), await worker(REQUESTS.slice(0, 2))]);
  const text = await aggregated.metrics();
  t.regex(text, /umbral_http_requests_total\{method="POST",route="\/token",status="200"\} 5/);
  t.regex(text, /umbral_http_request_duration_seconds_count\{method="POST",route="\/token"\} 6/);
  t.regex(text, /umbral_http_request_duration_seconds_bucket\{le="0.001",method="POST",route="\/token"\} 2/);
});
