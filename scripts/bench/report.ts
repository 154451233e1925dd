/** The results as a markdown table, with the goals and Keycloak's published per-vCPU sizing beside them. */
import type { Argon2Ceiling } from './argon2-ceiling.ts';
import { METRICS_GOAL_MS } from './metrics.ts';
import type { Calibration, Measured, TargetResult, TokenPhases } from './run.ts';

/** Issue 15's goals: ratios to the ceilings measured in the same run, per fully used core. */
export const GOALS = {
  /** cc and refresh per core ÷ the bare oidc-provider's per core. */
  ofBareProvider: 0.8,
  /** Logins per core ÷ argon2id verifications per CPU-second. */
  ofArgon2: 0.8,
  /** Half-load p99 of cc and refresh, on a quiet machine (and never above the bare provider's). */
  p99AtHalfLoadMs: 25,
  idleRssMb: { postgres: 150, pglite: 300 } as Record<string, number>,
  /** WEB_CONCURRENCY=2 ÷ 1 worker, client credentials. */
  twoWorkers: 1.8,
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
    /** The kernel's transparent huge page mode. */
    thp?: string | undefined;
  },
): string {
  const cols = results.map((r) => r.label);
  const bare = results.find((r) => r.target === 'bare');
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
          `Login ceiling: argon2id verifications (m=19456 t=2 p=1, one per login) on the same core: ${meta.argon2.perCore.toFixed(1)} per CPU-second, ` +
            `the faster of ${meta.argon2.serverAllocator.perCore.toFixed(1)} under the servers' allocator settings and ${meta.argon2.glibcDefaults.perCore.toFixed(1)} under glibc's defaults` +
            `${meta.thp ? ` (transparent huge pages: ${meta.thp})` : ''}.`,
        ]
      : []),
    '',
    `| Metric | Goal (per core) | Keycloak (per vCPU) | ${cols.join(' | ')} |`,
    `|---|---|---|${cols.map(() => '---').join('|')}|`,
    row('client_credentials, max (32 conns)', '', `${KEYCLOAK.clientCredentials}/s`, (r) =>
      maxCell(r.clientCredentials),
    ),
    row('client_credentials at ½ max (paced)', `p99 < ${GOALS.p99AtHalfLoadMs} ms`, '', (r) =>
      halfCell(r.clientCredentials),
    ),
    row('refresh_token, max (32 conns, a token each)', '', `${KEYCLOAK.refresh}/s`, (r) => maxCell(r.refresh)),
    row('refresh_token at ½ max (paced)', `p99 < ${GOALS.p99AtHalfLoadMs} ms`, '', (r) => halfCell(r.refresh)),
    row('complete password logins (8 in flight; bare: its one-page login)', '', `${KEYCLOAK.logins}/s`, (r) =>
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
      'RSS idle after warm-up: at rest (early reading)',
      `< ${GOALS.idleRssMb['postgres']} MB (PostgreSQL), < ${GOALS.idleRssMb['pglite']} MB (PGlite)`,
      KEYCLOAK.memory,
      (r) => `**${Math.round(r.idleRssMb)}** MB (${Math.round(r.earlyIdleRssMb)} MB)`,
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
        `${perCore(r.clientCredentials?.max)} / ${perCore(r.refresh?.max)} / ${loginsPerCore(r)?.toFixed(1) ?? '–'}`,
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
    row('per core ÷ bare oidc-provider per core: cc / refresh', `≥ ${GOALS.ofBareProvider}`, '', (r) =>
      r.target === 'bare'
        ? '1 / 1'
        : `**${ratioOf(r, bare, 'clientCredentials')}** / **${ratioOf(r, bare, 'refresh')}**`,
    ),
    row('logins per core ÷ argon2 ceiling', `≥ ${GOALS.ofArgon2}`, '', (r) => {
      const perCore = loginsPerCore(r);
      return meta.argon2 && perCore ? (perCore / meta.argon2.perCore).toFixed(2) : '–';
    }),
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

/** Per core (successful requests ÷ server CPU-seconds) of a maximum load. */
function perCoreOf(p: TokenPhases | undefined): number | undefined {
  return p?.max.cpu.server ? p.max.rps / p.max.cpu.server : undefined;
}

function ratio(
  r: TargetResult,
  bare: TargetResult | undefined,
  flow: 'clientCredentials' | 'refresh',
): number | undefined {
  const mine = perCoreOf(r[flow]);
  const ceiling = perCoreOf(bare?.[flow]);
  return mine !== undefined && ceiling ? mine / ceiling : undefined;
}

function ratioOf(r: TargetResult, bare: TargetResult | undefined, flow: 'clientCredentials' | 'refresh'): string {
  return ratio(r, bare, flow)?.toFixed(2) ?? '–';
}

/** Complete logins per CPU-second of the server. */
function loginsPerCore(r: TargetResult | undefined): number | undefined {
  return r?.logins?.rps && r.logins.cpu.server ? r.logins.rps / r.logins.cpu.server : undefined;
}

/** Each goal of issue 15 that this run measured, met or not. */
export function verdicts(
  results: TargetResult[],
  ceilings: { argon2?: Argon2Ceiling | undefined; workersRatio?: number | undefined } = {},
): Verdict[] {
  const out: Verdict[] = [];
  const bare = results.find((x) => x.target === 'bare');
  for (const r of results.filter((x) => x.target !== 'bare')) {
    for (const [flow, name] of [
      ['clientCredentials', 'client_credentials'],
      ['refresh', 'refresh'],
    ] as const) {
      const value = ratio(r, bare, flow);
      if (value === undefined) continue;
      out.push({
        goal: `${name} per core ≥ ${GOALS.ofBareProvider} of the bare oidc-provider's`,
        target: r.label,
        value: `${int(perCoreOf(r[flow])!)} ÷ ${int(perCoreOf(bare?.[flow])!)} = ${value.toFixed(2)}`,
        met: value >= GOALS.ofBareProvider,
      });
    }
    const perCore = loginsPerCore(r);
    if (perCore !== undefined && ceilings.argon2) {
      const value = perCore / ceilings.argon2.perCore;
      const bareLogins = loginsPerCore(bare);
      const floor =
        bareLogins === undefined
          ? ''
          : ` (the bare oidc-provider's one-page login: ${bareLogins.toFixed(1)} = ${(bareLogins / ceilings.argon2.perCore).toFixed(2)})`;
      out.push({
        goal: `logins per core ≥ ${GOALS.ofArgon2} of argon2id verifications per CPU-second`,
        target: r.label,
        value: `${perCore.toFixed(1)} ÷ ${ceilings.argon2.perCore.toFixed(1)} = ${value.toFixed(2)}${floor}`,
        met: value >= GOALS.ofArgon2,
      });
    }
    for (const [flow, name] of [
      ['clientCredentials', 'client_credentials'],
      ['refresh', 'refresh'],
    ] as const) {
      const phases = r[flow];
      if (!phases) continue;
      const p99 = phases.half.latencyMs.p99;
      const bareP99 = bare?.[flow]?.half.latencyMs.p99;
      out.push({
        goal: `${name} half-load p99 < ${GOALS.p99AtHalfLoadMs} ms and ≤ the bare provider's`,
        target: r.label,
        value: `${ms(p99)} ms (bare ${bareP99 === undefined ? '–' : ms(bareP99)} ms; other work ${phases.half.cpu.others} cores)`,
        met: p99 < GOALS.p99AtHalfLoadMs && (bareP99 === undefined || p99 <= bareP99),
      });
    }
    if (r.metrics)
      out.push({
        goal: `company metrics < ${METRICS_GOAL_MS} ms (p90, 100,000 sign-ins)`,
        target: r.label,
        value: `${ms(r.metrics.organizationMetricsMs.p90)} ms`,
        met: r.metrics.organizationMetricsMs.p90 < METRICS_GOAL_MS,
      });
    const rssGoal = GOALS.idleRssMb[r.target];
    if (rssGoal)
      out.push({
        goal: `idle RSS < ${rssGoal} MB`,
        target: r.label,
        value: `${Math.round(r.idleRssMb)} MB`,
        met: r.idleRssMb < rssGoal,
      });
  }
  if (ceilings.workersRatio !== undefined)
    out.push({
      goal: `WEB_CONCURRENCY=2 ≥ ×${GOALS.twoWorkers} one worker's client_credentials`,
      target: 'Umbral on PostgreSQL',
      value: `×${ceilings.workersRatio}`,
      met: ceilings.workersRatio >= GOALS.twoWorkers,
    });
  return out;
}

export function verdictLines(list: Verdict[]): string {
  return list.map((v) => `- ${v.met ? 'MET    ' : 'NOT MET'} ${v.goal} — ${v.target}: ${v.value}`).join('\n');
}
