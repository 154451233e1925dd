/**
 * Two ways to load the token endpoint:
 * - closed loop (autocannon): N keep-alive connections, each sends its next request as soon as
 *   the previous answer arrives; gives the maximum throughput.
 * - open loop (paced): requests start on a fixed schedule (rate per second) whatever the server
 *   does, over a pool of keep-alive connections; latency counts from the scheduled start, so a
 *   stalled server is charged for the requests it delayed (no coordinated omission).
 *   autocannon's own `overallRate` is not used for this: it sends each connection's quota for
 *   the second back to back and then pauses, which is full load half of the time.
 */
import autocannon from 'autocannon';
import { RawPool } from './raw-client.ts';
import { type LatencySummary, round, Samples } from './stats.ts';

export interface RequestSpec {
  /** e.g. http://127.0.0.1:3000 */
  origin: string;
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /**
   * Bodies taken in turn instead of `body`, so requests in flight together carry different ones
   * (each its own refresh token, as different sessions send): a single token sent by every
   * connection would let the server read it once for all of them.
   */
  bodies?: string[];
  /** Answers other than this status count as failures. */
  expectStatus?: number;
}

export interface LoadResult {
  kind: 'closed' | 'paced';
  durationSeconds: number;
  /** Successful answers per second. */
  rps: number;
  ok: number;
  failed: number;
  /** Status codes other than the expected one, with counts. */
  statuses: Record<string, number>;
  errors: number;
  latencyMs: LatencySummary;
  connections: number;
  /** paced: the rate asked for. */
  targetRps?: number;
  /** paced: how late the generator itself started requests (its own lag), ms. */
  sendLagMs?: LatencySummary;
}

/** autocannon's per-request hook: the next body of the list, round-robin. */
function nextBody(bodies: string[]) {
  let next = 0;
  return (request: autocannon.Request): autocannon.Request => ({ ...request, body: bodies[next++ % bodies.length]! });
}

export async function closedLoop(spec: RequestSpec, connections: number, seconds: number): Promise<LoadResult> {
  const expected = spec.expectStatus ?? 200;
  const latency = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.origin + spec.path,
        method: spec.method,
        headers: spec.headers,
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        ...(spec.bodies?.length ? { requests: [{ setupRequest: nextBody(spec.bodies) }] } : {}),
        connections,
        duration: seconds,
        pipelining: 1,
        timeout: 10,
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode === expected) {
        ok++;
        latency.add(responseTime);
      } else {
        failed++;
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      }
    });
  });
  const durationSeconds = (performance.now() - started) / 1000;
  return {
    kind: 'closed',
    durationSeconds: round(durationSeconds),
    rps: round(ok / durationSeconds, 1),
    ok,
    failed,
    statuses,
    errors: result.errors + result.timeouts,
    latencyMs: latency.summary(),
    connections,
  };
}

export async function paced(
  spec: RequestSpec,
  rate: number,
  seconds: number,
  maxConnections = 64,
): Promise<LoadResult> {
  const expected = spec.expectStatus ?? 200;
  const pool = new RawPool(spec.origin, spec.method, spec.path, spec.headers, spec.bodies ?? spec.body, maxConnections);
  const latency = new Samples();
  const lag = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let errors = 0;
  let inFlight = 0;
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  let allIssued = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const settle = () => {
    inFlight--;
    if (allIssued && inFlight === 0) done();
  };
  const send = (scheduled: number) => {
    inFlight++;
    lag.add(performance.now() - scheduled);
    pool.send().then(
      (response) => {
        if (response.status === expected) {
          ok++;
          latency.add(performance.now() - scheduled);
        } else {
          failed++;
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        }
        settle();
      },
      () => {
        errors++;
        settle();
      },
    );
  };

  const t0 = performance.now();
  let issued = 0;
  // Every millisecond (as near as timers go), start whatever is due.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      while (issued < total && t0 + issued * interval <= now) send(t0 + issued++ * interval);
      if (issued >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  allIssued = true;
  if (inFlight > 0) {
    const bound = setTimeout(done, 15_000);
    await finished;
    clearTimeout(bound);
  }
  const durationSeconds = (performance.now() - t0) / 1000;
  pool.close();
  return {
    kind: 'paced',
    durationSeconds: round(durationSeconds),
    rps: round(ok / durationSeconds, 1),
    ok,
    failed,
    statuses,
    errors,
    latencyMs: latency.summary(),
    connections: maxConnections,
    targetRps: round(rate, 1),
    sendLagMs: lag.summary(),
  };
}
