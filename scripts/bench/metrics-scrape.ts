/** Reads Umbral's /metrics during the bench, to check that what it counts agrees with the load sent. */

/** The bearer token the bench gives the server (METRICS_TOKEN), so /metrics is served on its port. */
export const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789';

/** umbral_tokens_issued_total by grant, right now. */
export async function tokensIssued(origin: string): Promise<Record<string, number>> {
  const response = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const out: Record<string, number> = {};
  for (const line of (await response.text()).split('\n')) {
    const match = /^umbral_tokens_issued_total\{grant="([^"]+)"\} (\d+)/.exec(line);
    if (match) out[match[1]!] = Number(match[2]);
  }
  return out;
}

/** What changed between two readings. */
export function issuedBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([grant, n]) => [grant, n - (before[grant] ?? 0)]));
}
