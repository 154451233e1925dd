/** The results as a markdown table, with the goals and Keycloak's published per-vCPU sizing beside them. */
import type { Argon2Ceiling } from './argon2-ceiling.ts';
import { METRICS_GOAL_MS } from './metrics.ts';
import type { Calibration, Measured, TargetResult, TokenPhases } from './run.ts';

export const GOALS = {
  loginsPerSecond: 40,
  clientCredentialsPerSecond: 2000,
  refreshPerSecond: 1000,
  p99AtHalfLoadMs: 20,
  idleRssMb: 150,
} as const;

/** Keycloak's sizing guide, per vCPU (1.25 GB per pod). */
export const KEYCLOAK = {
  logins: '15',
  clientCredentials: '120–200',
  refresh: '120',
  memory: '1,250 MB per pod',
} as const;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : Math.round(n).toString()) : '–');

function maxCell(p: TokenPhases | undefined): string {
  if (!p) return '–';
  return `**${int(p.max.rps)}**/s (p50 ${ms(p.max.latencyMs.p50)}, p99 ${ms(p.max.latencyMs.p99)} ms)`;
}

function halfCell(p: TokenPhases | undefined): string {
  if (!p) return '–';
  return `${int(p.half.rps)}/s: p50 ${ms(p.half.latencyMs.p50)}, p99 **${ms(p.half.latencyMs.p99)}** ms`;
}

function failures(results: TargetResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    for (const [name, phases] of [
      ['client_credentials', r.clientCredentials],
      ['refresh', r.refresh],
    ] as const) {
      if (!phases) continue;
      for (const [load, p] of [
        ['max', phases.max],
        ['half', phases.half],
      ] as const) {
        if (p.failed || p.errors)
          out.push(
            `${r.label}, ${name} ${load}: ${p.failed} non-200 (${JSON.stringify(p.statuses)}), ${p.errors} errors`,
          );
      }
    }
    if (r.logins?.failed) out.push(`${r.label}, logins: ${r.logins.failed} failed (${r.logins.firstErrors[0] ?? ''})`);
  }
  return out;
}

/** Server CPU time per successful request at maximum load, ms: throughput that does not depend on how much of core 0 the server got. */
function cpuMs(p: TokenPhases | undefined): string {
  if (!p?.max.rps) return '–';
  return ms((p.max.cpu.server / p.max.rps) * 1000);
}

/** Throughput the server would reach with the whole core: successful requests per CPU-second it used. */
function perCore(p: { rps: number; cpu: { server: number } } | undefined): string {
  if (!p?.cpu.server) return '–';
  return int(p.rps / p.cpu.server);
}

/**
 * `counted = ok` when Umbral's /metrics counted as many tokens of `grant` as the load got 200s;
 * `≈` when it counted at most one per connection more: answers in flight when a closed loop stops,
 * which the server sent and the load generator no longer counts.
 */
function agreement(p: Measured<{ ok: number; connections?: number }> | undefined, grant: string): string {
  if (!p?.metricsIssued) return '–';
  const counted = p.metricsIssued[grant] ?? 0;
  const extra = counted - p.ok;
  const sign = extra === 0 ? '=' : extra > 0 && extra <= (p.connections ?? 0) ? '≈' : '≠';
  return `${int(counted)} ${sign} ${int(p.ok)}`;
}

export function markdownTable(
  results: TargetResult[],
  meta: {
    date: string;
    quick: boolean;
    pinned: boolean;
    calibration: Calibration | undefined;
    argon2?: Argon2Ceiling | undefined;
  },
): string {
  const cols = results.map((r) => r.label);
  const row = (metric: string, goal: string, keycloak: string, cell: (r: TargetResult) => string) =>
    `| ${metric} | ${goal} | ${keycloak} | ${results.map(cell).join(' | ')} |`;
  const lines = [
    `Umbral bench, ${meta.date}${meta.quick ? ' (--quick: short runs, rough figures)' : ''}. ` +
      (meta.pinned
        ? 'Server pinned to 1 core (taskset -c 0), load generator on the other: figures are per core.'
        : 'Not pinned (taskset missing).'),
    ...(meta.calibration
      ? [
          '',
          `Calibration: a plain node:http server answering a token-sized JSON, same core and load: ${int(meta.calibration.helloRps)}/s ` +
            `(p50 ${ms(meta.calibration.helloLatencyMs.p50)}, p99 ${ms(meta.calibration.helloLatencyMs.p99)} ms).`,
        ]
      : []),
    ...(meta.argon2
      ? [
          '',
          `Login ceiling: argon2id verifications (m=19456 t=2 p=1, one per login) on the same core: ${meta.argon2.perCore.toFixed(1)} per CPU-second.`,
        ]
      : []),
    '',
    `| Metric | Goal (per core) | Keycloak (per vCPU) | ${cols.join(' | ')} |`,
    `|---|---|---|${cols.map(() => '---').join('|')}|`,
    row(
      'client_credentials, max (32 conns)',
      `≥ ${int(GOALS.clientCredentialsPerSecond)}/s`,
      `${KEYCLOAK.clientCredentials}/s`,
      (r) => maxCell(r.clientCredentials),
    ),
    row('client_credentials at ½ max (paced)', `p99 < ${GOALS.p99AtHalfLoadMs} ms`, '', (r) =>
      halfCell(r.clientCredentials),
    ),
    row('refresh_token, max (32 conns)', `≥ ${int(GOALS.refreshPerSecond)}/s`, `${KEYCLOAK.refresh}/s`, (r) =>
      maxCell(r.refresh),
    ),
    row('refresh_token at ½ max (paced)', `p99 < ${GOALS.p99AtHalfLoadMs} ms`, '', (r) => halfCell(r.refresh)),
    row('complete password logins (8 in flight)', `≥ ${GOALS.loginsPerSecond}/s`, `${KEYCLOAK.logins}/s`, (r) =>
      r.logins
        ? `**${r.logins.rps.toFixed(1)}**/s (p50 ${ms(r.logins.latencyMs.p50)}, p99 ${ms(r.logins.latencyMs.p99)} ms)`
        : 'n/a',
    ),
    row(
      'company metrics, 100,000 sign-ins: organizationMetrics p50 / p90 · lastSignIns of 50 p50',
      `< ${METRICS_GOAL_MS} ms`,
      '',
      (r) =>
        r.metrics
          ? `**${ms(r.metrics.organizationMetricsMs.p50)}** / ${ms(r.metrics.organizationMetricsMs.p90)} ms · ${ms(r.metrics.lastSignInsOf50Ms.p50)} ms`
          : '–',
    ),
    row(
      'RSS idle after warm-up',
      `< ${GOALS.idleRssMb} MB`,
      KEYCLOAK.memory,
      (r) => `**${Math.round(r.idleRssMb)}** MB`,
    ),
    row('RSS after start → token warm-up → login warm-up', '', '', (r) =>
      r.rssAfterLoginWarmupMb
        ? `${Math.round(r.rssAfterStartMb)} → ${Math.round(r.rssAfterTokenWarmupMb ?? 0)} → ${Math.round(r.rssAfterLoginWarmupMb)} MB`
        : `${Math.round(r.rssAfterStartMb)} MB after start`,
    ),
    row('RSS peak under load', '', '', (r) => `${Math.round(r.peakRssMb)} MB`),
    row('start-up to healthy', '', '', (r) => `${r.startupSeconds} s`),
    row(
      'server CPU at max cc / refresh (cores)',
      '',
      '',
      (r) => `${r.clientCredentials?.max.cpu.server ?? '–'} / ${r.refresh?.max.cpu.server ?? '–'}`,
    ),
    row(
      'server CPU per request at max load: cc / refresh / login (ms)',
      '',
      '',
      (r) =>
        `${cpuMs(r.clientCredentials)} / ${cpuMs(r.refresh)} / ${r.logins?.rps ? ms((r.logins.cpu.server / r.logins.rps) * 1000) : '–'}`,
    ),
    row(
      '⇒ per fully used core: cc / refresh / logins (1000 ÷ CPU ms)',
      '',
      '',
      (r) =>
        `${perCore(r.clientCredentials?.max)} / ${perCore(r.refresh?.max)} / ${r.logins?.rps && r.logins.cpu.server ? (r.logins.rps / r.logins.cpu.server).toFixed(1) : '–'}`,
    ),
    row('PostgreSQL backends CPU at max cc / refresh (cores, not pinned)', '', '', (r) =>
      r.target === 'postgres'
        ? `${r.clientCredentials?.max.cpu.database ?? '–'} / ${r.refresh?.max.cpu.database ?? '–'}`
        : '–',
    ),
    row('SQL statements per cc / refresh / login', '', '', (r) =>
      r.target === 'bare'
        ? '–'
        : `${r.clientCredentials?.half.queries?.perRequest ?? '–'} / ${r.refresh?.half.queries?.perRequest ?? '–'} / ${r.logins?.queries?.perRequest ?? '–'}`,
    ),
    row('of which writes (commits) per cc / refresh / login', '', '', (r) =>
      r.target === 'bare'
        ? '–'
        : `${r.clientCredentials?.half.queries?.writesPerRequest ?? '–'} / ${r.refresh?.half.queries?.writesPerRequest ?? '–'} / ${r.logins?.queries?.writesPerRequest ?? '–'}`,
    ),
    row('logins per core ÷ argon2 ceiling (goal ≥ 0.8)', '', '', (r) =>
      meta.argon2 && r.logins?.rps && r.logins.cpu.server
        ? (r.logins.rps / r.logins.cpu.server / meta.argon2.perCore).toFixed(2)
        : '–',
    ),
    row('/metrics tokens counted = 200s sent: cc max / refresh max / logins', '', '', (r) =>
      r.target === 'bare'
        ? '–'
        : [
            agreement(r.clientCredentials?.max, 'client_credentials'),
            agreement(r.refresh?.max, 'refresh_token'),
            agreement(r.logins, 'authorization_code'),
          ].join(' / '),
    ),
    row(
      'other work on the machine: before start / during max cc (cores of 2)',
      '',
      '',
      (r) => `${r.machineBusyBeforeCores ?? '?'} / ${r.clientCredentials?.max.cpu.others ?? '–'}`,
    ),
  ];
  const failed = failures(results);
  if (failed.length) lines.push('', '**Failures:**', ...failed.map((f) => `- ${f}`));
  return lines.join('\n');
}

export interface Verdict {
  goal: string;
  target: string;
  value: string;
  met: boolean;
}

export function verdicts(results: TargetResult[]): Verdict[] {
  const out: Verdict[] = [];
  for (const r of results.filter((x) => x.target !== 'bare')) {
    const { clientCredentials: cc, refresh } = r;
    if (cc)
      out.push({
        goal: `client_credentials ≥ ${GOALS.clientCredentialsPerSecond}/s`,
        target: r.label,
        value: `${int(cc.max.rps)}/s`,
        met: cc.max.rps >= GOALS.clientCredentialsPerSecond,
      });
    if (refresh)
      out.push({
        goal: `refresh ≥ ${GOALS.refreshPerSecond}/s`,
        target: r.label,
        value: `${int(refresh.max.rps)}/s`,
        met: refresh.max.rps >= GOALS.refreshPerSecond,
      });
    if (r.logins)
      out.push({
        goal: `logins ≥ ${GOALS.loginsPerSecond}/s`,
        target: r.label,
        value: `${r.logins.rps}/s`,
        met: r.logins.rps >= GOALS.loginsPerSecond,
      });
    const halves = [cc, refresh].filter((p) => p !== undefined);
    if (halves.length) {
      const p99 = Math.max(...halves.map((p) => p.half.latencyMs.p99));
      out.push({
        goal: `p99 < ${GOALS.p99AtHalfLoadMs} ms at half load`,
        target: r.label,
        value: `${ms(p99)} ms (worst of cc, refresh)`,
        met: p99 < GOALS.p99AtHalfLoadMs,
      });
    }
    if (r.metrics)
      out.push({
        goal: `company metrics < ${METRICS_GOAL_MS} ms (p90, 100,000 sign-ins)`,
        target: r.label,
        value: `${ms(r.metrics.organizationMetricsMs.p90)} ms`,
        met: r.metrics.organizationMetricsMs.p90 < METRICS_GOAL_MS,
      });
    out.push({
      goal: `idle RSS < ${GOALS.idleRssMb} MB`,
      target: r.label,
      value: `${Math.round(r.idleRssMb)} MB`,
      met: r.idleRssMb < GOALS.idleRssMb,
    });
  }
  return out;
}

export function verdictLines(list: Verdict[]): string {
  return list.map((v) => `- ${v.met ? 'MET    ' : 'NOT MET'} ${v.goal} — ${v.target}: ${v.value}`).join('\n');
}
