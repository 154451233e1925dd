/** Child processes of the bench: servers pinned to a core, the operator CLI. */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ALLOCATOR_SETTINGS } from '../../src/config/allocator-settings.ts';
import { onCleanup } from './cleanup.ts';
import { sleep } from './stats.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Environment for a child: ours without the variables that would point it elsewhere. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // The Dockerfile's allocator settings unless ours set them (src/config/allocator-settings.ts).
  const env: NodeJS.ProcessEnv = { ...ALLOCATOR_SETTINGS, ...process.env };
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'DATA_DIR', 'ISSUER', 'PORT', 'NODE_OPTIONS', 'TRUST_PROXY'])
    delete env[key];
  return { ...env, ...extra };
}

export interface RunningProcess {
  child: ChildProcess;
  pid: number;
  /** The last 64 KiB of what it printed. */
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Where a child runs: pinned to a core (taskset -c). */
export interface Placement {
  core?: string | undefined;
}

/** Starts `node <args>` placed as asked; killed at clean-up. */
export function startNode(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  placement: Placement = {},
): RunningProcess {
  const argv = [process.execPath, ...args];
  if (placement.core !== undefined) argv.unshift('taskset', '-c', placement.core);
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let alive = true;
  void exited.then(() => (alive = false));
  const stop = onCleanup(`stop ${name}`, async () => {
    if (!alive) return;
    child.kill('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!gone && alive) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  if (!child.pid) throw new Error(`${name} did not start`);
  return { child, pid: child.pid, output: () => out, exited, stop };
}

/** Waits until `url` answers 200, the process exits, or `timeoutMs` passes. */
export async function waitHealthy(proc: RunningProcess, url: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => (exitCode = code));
  while (performance.now() - started < timeoutMs) {
    if (exitCode !== undefined)
      throw new Error(`server exited (${exitCode}) before it was healthy:\n${proc.output().slice(-3000)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`server not healthy after ${timeoutMs} ms:\n${proc.output().slice(-3000)}`);
}

/** Waits for the first line of stdout that parses as JSON. */
export async function firstJsonLine<T>(proc: RunningProcess, timeoutMs: number): Promise<T> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    for (const line of proc.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        return JSON.parse(line) as T;
      } catch {
        // a partial line
      }
    }
    await sleep(100);
  }
  throw new Error(`no JSON line after ${timeoutMs} ms:\n${proc.output().slice(-3000)}`);
}

/** Runs `node bin/umbral.js <args>` (on `core`, when given) and returns the JSON it prints. */
export async function umbralCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  placement: Placement,
): Promise<Record<string, unknown>> {
  const proc = startNode('umbral CLI', [path.join(ROOT, 'bin/umbral.js'), ...args], env, placement);
  const code = await Promise.race([proc.exited, sleep(60_000).then(() => 'timeout' as const)]);
  await proc.stop();
  const output = proc.output();
  if (code !== 0) throw new Error(`umbral ${args.slice(0, 2).join(' ')} failed (${code}):\n${output.slice(-2000)}`);
  const start = output.indexOf('{');
  if (start === -1) throw new Error(`umbral ${args.slice(0, 2).join(' ')} printed no JSON:\n${output.slice(-2000)}`);
  return JSON.parse(jsonBlock(output.slice(start))) as Record<string, unknown>;
}

/** The first complete JSON object in `text` (the CLI pretty-prints; warnings may surround it). */
function jsonBlock(text: string): string {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return text.slice(0, i + 1);
  }
  throw new Error(`no JSON object in: ${text.slice(0, 500)}`);
}
