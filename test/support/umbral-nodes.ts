import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { ALLOCATOR_SETTINGS } from '../../src/config/allocator-settings.ts';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';
import { SERVER_NODE_FLAGS } from '../../src/config/server-node-flags.ts';

/** The compiled server, as `npm start` runs it. */
const MAIN = path.join(PROJECT_ROOT, 'build/src/main.js');

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

export interface UmbralNode {
  port: number;
  /** http://127.0.0.1:PORT: this node alone, past the proxy. */
  url: string;
  child: ChildProcess;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  output(): string;
}

/** One Umbral process (`node build/src/main.js`) on its own port, with a fresh environment and npm start's allocator settings. */
export function startNode(env: Record<string, string>, port: number): UmbralNode {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, MAIN], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...ALLOCATOR_SETTINGS, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { port, url: `http://127.0.0.1:${port}`, child, exited, output: () => output };
}

/** Resolves once every node answers /readyz with 200; throws with the nodes' output after `ms`. */
export async function untilReady(nodes: UmbralNode[], ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (const node of nodes) {
    for (;;) {
      const status = await fetch(`${node.url}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      if (node.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`node on ${node.port} not ready (exit ${node.child.exitCode}):\n${node.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * A load balancer in front of `ports`, round robin per request (not per connection), so every
 * request of a flow lands on another node than the one before. `down` ports are skipped, as a
 * balancer's health check would.
 */
export async function startRoundRobinProxy(ports: number[]) {
  let next = 0;
  const down = new Set<number>();
  const agent = new http.Agent({ keepAlive: true });
  const served: Array<{ port: number; method: string; path: string }> = [];
  const server = http.createServer((request, response) => {
    const live = ports.filter((p) => !down.has(p));
    const port = live[next++ % live.length]!;
    served.push({ port, method: request.method ?? 'GET', path: (request.url ?? '/').split('?')[0]! });
    const upstream = http.request(
      { host: '127.0.0.1', port, method: request.method, path: request.url, headers: request.headers, agent },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    /** Where each request went, in order. */
    served,
    markDown: (p: number) => down.add(p),
    markUp: (p: number) => down.delete(p),
    close(): Promise<void> {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns a value (not undefined), or throws after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
