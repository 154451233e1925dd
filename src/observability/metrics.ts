import type { Context, Middleware } from 'koa';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { AuditEventInput } from '../audit/audit-event.ts';
import type { Database } from '../storage/schema.ts';
import { RequestSeries } from './request-series.ts';

/** Connections of a PostgreSQL pool, as pg counts them. */
export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
}

/** A queue's depth, read at each scrape: how many items wait, and how many were given up. */
export interface QueueDepth {
  pending: number;
  failed: number;
}

export interface MetricsSources {
  db: Kysely<Database>;
  /** The pool's connections; PGlite has no pool (one in-process connection). */
  poolUse?: () => PoolUse | undefined;
  /** Process-level metrics (CPU, memory, event-loop delay, GC): only when /metrics is served. */
  processMetrics: boolean;
}

const UNMATCHED = 'unmatched';
/** Seconds; fine at the low end, where a token request lives (a few ms), coarse beyond a second. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Umbral's metrics for Prometheus (prom-client), in a registry of its own (so several servers in one
 * process, as in tests, do not mix). Requests are labelled by route template (`/interaction/:uid`,
 * oidc-provider's route name), never by raw path, so the label set stays small whatever is requested.
 */
export class UmbralMetrics {
  readonly registry = new Registry();
  readonly #requestSeries: RequestSeries;
  readonly #signIns: Counter<'method' | 'outcome'>;
  readonly #tokens: Counter<'grant'>;
  #webhookDepth: (() => Promise<QueueDepth> | QueueDepth) | undefined;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    if (sources.processMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    this.#requestSeries = new RequestSeries(this.registry, LATENCY_BUCKETS);
    this.#signIns = new Counter({
      name: 'umbral_sign_ins_total',
      help: 'Sign-ins by method (amr, e.g. pwd, pwd+otp, fed) and outcome (succeeded, failed)',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#tokens = new Counter({
      name: 'umbral_tokens_issued_total',
      help: 'Successful token endpoint requests, by grant type',
      labelNames: ['grant'],
      registers,
    });
    const { db, poolUse } = sources;
    new Gauge({
      name: 'umbral_mail_queue_messages',
      help: 'Queued emails (every node shares the queue): pending (to send or retry) and failed (given up, kept a while)',
      labelNames: ['status'],
      registers,
      aggregator: 'max', // the same figure from every worker (WEB_CONCURRENCY), not a share of it
      async collect() {
        const rows = await db
          .selectFrom('mail_queue')
          .select((eb) => ['status', eb.fn.countAll<string>().as('n')])
          .where('status', 'in', ['pending', 'sending', 'failed'])
          .groupBy('status')
          .execute();
        const count = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
        this.set({ status: 'pending' }, count('pending') + count('sending'));
        this.set({ status: 'failed' }, count('failed'));
      },
    });
    const webhooks = () => this.#webhookDepth;
    new Gauge({
      name: 'umbral_webhook_queue_messages',
      help: 'Queued webhook deliveries: pending and failed (0 until a webhook queue reports here)',
      labelNames: ['status'],
      registers,
      aggregator: 'max',
      async collect() {
        const depth = (await webhooks()?.()) ?? { pending: 0, failed: 0 };
        this.set({ status: 'pending' }, depth.pending);
        this.set({ status: 'failed' }, depth.failed);
      },
    });
    new Gauge({
      name: 'umbral_db_pool_connections',
      help: "Connections of this process's PostgreSQL pool: total, idle, and requests waiting for one",
      labelNames: ['state'],
      registers,
      collect() {
        const use = poolUse?.();
        if (!use) return;
        this.set({ state: 'total' }, use.total);
        this.set({ state: 'idle' }, use.idle);
        this.set({ state: 'waiting' }, use.waiting);
      },
    });
  }

  /** Counts and times every request; outermost, so it sees the final status (error pages included). */
  requests(): Middleware {
    const series = this.#requestSeries;
    // A promise chain, not an async function: one promise less per request (each costs its async hooks).
    return (ctx, next) => {
      const started = performance.now();
      const record = () => series.record(ctx.method, routeOf(ctx), ctx.status, (performance.now() - started) / 1000);
      return next().then(record, (error: unknown) => {
        record();
        throw error;
      });
    };
  }

  /** Sign-in outcomes, from the audit events the sign-in already records (src/interactions, src/mfa). */
  auditEvent(event: AuditEventInput): void {
    if (event.type === 'sign_in.succeeded') {
      const amr = event.data?.['amr'];
      this.#signIns.inc({ method: Array.isArray(amr) ? amr.join('+') : 'unknown', outcome: 'succeeded' });
    } else if (event.type === 'sign_in.failed') {
      const method = event.data?.['method'];
      this.#signIns.inc({ method: typeof method === 'string' ? method : 'unknown', outcome: 'failed' });
    }
  }

  /** Token issuance by grant, from oidc-provider's events. */
  watchProvider(provider: Provider): void {
    provider.on('grant.success', (ctx) => {
      const grant = (ctx as Context & { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type;
      this.#tokens.inc({ grant: typeof grant === 'string' ? grant : 'unknown' });
    });
  }

  /**
   * Where the webhook queue (another capability) reports its depth; read at each scrape. The hook
   * for it: `umbral.metrics.reportWebhookQueue(() => queue.depth())`.
   */
  reportWebhookQueue(depth: () => Promise<QueueDepth> | QueueDepth): void {
    this.#webhookDepth = depth;
  }

  /** The text exposition format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * The template a request matched, as @koa/router and oidc-provider's router both record it
 * (`/interaction/:uid`, `/token`); anything else (a 404, an asset with its hash) is one label.
 */
function routeOf(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : UNMATCHED;
}
