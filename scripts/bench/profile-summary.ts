/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package/file.
 *
 *   node --import tsx scripts/bench/profile-summary.ts bench-results/profiles/…/CPU.….cpuprofile [top]
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package> or src/…, adapters/…, or a V8/Node internal. */
function owner(url: string): string {
  if (!url) return '(native / V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node:internal';
  const m = /\/work\/[^/]+\/((?:src|adapters|scripts|test)\/.*)$/.exec(url) ?? /((?:src|adapters)\/.*)$/.exec(url);
  return m ? m[1]! : path.basename(url);
}

/**
 * Self time by package and by function, and inclusive time of the heaviest frames. Samples taken
 * while the bench's probe stops the profiler (census-preload.ts) are left out.
 */
/** Areas a sample is charged to: the innermost frame (leaf first) that matches one of these. */
const AREAS: Array<[string, RegExp]> = [
  ['argon2', /node_modules\/argon2\//],
  ['PGlite (wasm + its JS)', /node_modules\/@electric-sql\/|^wasm:\/\//],
  [
    'SQL client: kysely, pg, adapter',
    /node_modules\/(kysely|pg|pg-pool|pg-protocol|pg-types|postgres-[\w-]+)\/|adapters\/postgres-adapter|pglite-pool/,
  ],
  ['pages: ejs', /node_modules\/ejs\//],
  ['oidc-provider', /node_modules\/oidc-provider\//],
  ['jose (signing)', /node_modules\/jose\//],
  [
    'Koa, router and middleware packages',
    /node_modules\/(koa|@koa\/[\w-]+|koa-compose|koa-mount|delegates|type-is|vary|on-finished|ee-first|mime-types|mime-db|media-typer|cookies|keygrip|http-errors|statuses|content-type|content-disposition|negotiator|accepts|fresh|encodeurl|escape-html|co-body|raw-body|qs|inflation|destroy|only|depd|http-assert|path-to-regexp)\//,
  ],
  ['Umbral code (src/)', /\/src\//],
  ['garbage collector', /^\(garbage collector\)$/],
];

export function summarise(file: string, top = 25): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const label = (n: ProfileNode) => {
    const { functionName, url, lineNumber } = n.callFrame;
    return `${functionName || '(anonymous)'} ${owner(url)}${url ? `:${lineNumber + 1}` : ''}`;
  };
  let busy = 0;
  let idle = 0;
  let probe = 0;
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const chain: ProfileNode[] = [];
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) chain.push(byId.get(x)!);
    if (chain.some((n) => n.callFrame.url.includes('census-preload'))) {
      probe += us;
      continue;
    }
    busy += us;
    byFunction.set(label(node), (byFunction.get(label(node)) ?? 0) + us);
    const o = functionName === '(garbage collector)' || functionName === '(program)' ? functionName : owner(url);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    for (const key of new Set(chain.map(label))) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    let area = 'Node core, HTTP, native (other)';
    for (const frame of chain) {
      const key = frame.callFrame.url || frame.callFrame.functionName;
      const hit = AREAS.find(([, rx]) => rx.test(key));
      if (hit) {
        area = hit[0];
        break;
      }
    }
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const lines = [
    `${path.basename(file)}: ${((busy + idle + probe) / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (idle ${(idle / 1e6).toFixed(2)} s, profiler ${(probe / 1e6).toFixed(2)} s left out)`,
    '',
    'By area (each sample charged to the innermost frame of a known area):',
  ];
  for (const [a, us] of sorted(byArea)) lines.push(`  ${pct(us)}  ${a}`);
  lines.push('', 'Self time by package / file (share of busy time):');
  for (const [o, us] of sorted(byOwner).slice(0, top)) lines.push(`  ${pct(us)}  ${o}`);
  lines.push('', 'Self time by function:');
  for (const [f, us] of sorted(byFunction).slice(0, top)) lines.push(`  ${pct(us)}  ${f}`);
  lines.push('', 'Inclusive time (the function and what it calls):');
  for (const [f, us] of sorted(inclusive)
    .filter(([f]) => !/^\((root|program)\)/.test(f))
    .slice(0, top * 2))
    lines.push(`  ${pct(us)}  ${f}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node --import tsx scripts/bench/profile-summary.ts FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarise(file, Number(top ?? 25))}\n`);
}
