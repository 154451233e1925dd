/**
 * A closed loop from `wrk` (Debian's package; C and LuaJIT) instead of autocannon, for the
 * `--workers` ratio: measured here under client-credentials load, wrk used about 0.1 core where
 * autocannon takes half a core or more, and on a 2-core machine every share the load generator
 * takes is a share the second worker does not get. One wrk thread, keep-alive connections, the
 * request written by a Lua script; its CPU is read from the shell that waited for it.
 *
 * wrk counts answers outside 2xx and 3xx, not answers other than `expectStatus`: for the token
 * endpoint's 200 the two are the same.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadResult, RequestSpec } from './load.ts';
import { waitedChildrenCpuSeconds } from './proc.ts';
import { round } from './stats.ts';

/** Whether `wrk` is on PATH. */
export function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** A Lua string literal. */
const lua = (s: string) => JSON.stringify(s);

function script(spec: RequestSpec): string {
  if (spec.bodies?.length) throw new Error('wrk-load: one body for every request (no `bodies`)');
  return [
    `wrk.method = ${lua(spec.method)}`,
    ...(spec.body !== undefined ? [`wrk.body = ${lua(spec.body)}`] : []),
    ...Object.entries(spec.headers).map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`),
    // Printed once at the end, read below: counts, and latency percentiles in microseconds.
    'done = function(s, latency, requests)',
    '  local e = s.errors',
    '  io.write(string.format("WRK %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\\n", s.requests, s.duration,',
    '    e.status, e.connect + e.read + e.write, e.timeout, latency.mean, latency:percentile(50),',
    '    latency:percentile(90), latency:percentile(99), latency.max))',
    'end',
    '',
  ].join('\n');
}

export interface WrkResult {
  load: LoadResult;
  /** CPU-seconds wrk used. */
  cpuSeconds: number;
}

/** `connections` keep-alive connections for `seconds`, as `closedLoop` does, from wrk. */
export async function wrkClosedLoop(spec: RequestSpec, connections: number, seconds: number): Promise<WrkResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-bench-wrk-'));
  const file = path.join(dir, 'request.lua');
  fs.writeFileSync(file, script(spec));
  try {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', file, spec.origin + spec.path];
    // The shell's own /proc stat after wrk exits: its waited-for children's CPU is wrk's.
    const child = spawn('sh', ['-c', 'wrk "$@" && cat /proc/$$/stat', 'sh', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const line = /^WRK (.*)$/m.exec(out);
    if (code !== 0 || !line) throw new Error(`wrk failed (${code}):\n${out.slice(-2000)}`);
    const [requests, durationUs, status, socket, timeouts, mean, p50, p90, p99, max] = line[1]!.split(' ').map(Number);
    const cpuSeconds = waitedChildrenCpuSeconds(out.slice(out.indexOf(line[0]) + line[0].length).trim());
    const durationSeconds = durationUs! / 1e6;
    const ok = requests! - status!;
    const ms = (us: number | undefined) => round(us! / 1000);
    return {
      cpuSeconds: round(cpuSeconds),
      load: {
        kind: 'closed',
        durationSeconds: round(durationSeconds),
        rps: round(ok / durationSeconds, 1),
        ok,
        failed: status!,
        statuses: status ? { 'not 2xx or 3xx': status } : {},
        errors: socket! + timeouts!,
        latencyMs: { count: ok, mean: ms(mean), p50: ms(p50), p90: ms(p90), p99: ms(p99), max: ms(max) },
        connections,
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
