import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../src/config/project-root.ts';
import { npmStart } from './support/start-script.ts';
import { createTestStore, STORES } from './support/stores.ts';

const root = PROJECT_ROOT;

/** `npm start`'s own command (its allocator settings, then `node … build/src/main.js`), run by this Node. */
const START = (() => {
  const { settings, args } = npmStart();
  return { env: Object.fromEntries(settings), args };
})();

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, START.args, {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info', ...START.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  /** Resolves when a log line with this message is printed. */
  const logged = (msg: string) =>
    new Promise<void>((resolve) => {
      const seen = () => stdout.split('\n').some((line) => line.includes(`"msg":${JSON.stringify(msg)}`));
      if (seen()) return resolve();
      const check = () => {
        if (!seen()) return;
        child.stdout.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
    });
  return { child, exited, logged, output: () => ({ stdout, stderr }) };
}

/** A raw keep-alive connection, to see exactly what the server sends and when it closes it. */
async function openConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk) => {
    received += chunk;
    waiting?.();
  });
  const closed = once(socket, 'close');
  /** Resolves with what arrived once `done(received)` holds, and forgets it. */
  const until = (done: (text: string) => number | undefined) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const end = done(received);
        if (end === undefined) return;
        waiting = undefined;
        const text = received.slice(0, end);
        received = received.slice(end);
        resolve(text);
      };
      waiting = check;
      socket.once('close', () => reject(new Error(`closed before a full response: ${JSON.stringify(received)}`)));
      check();
    });
  /** One whole response (headers and a Content-Length body). */
  const response = async () => {
    const text = await until((r) => {
      const head = r.indexOf('\r\n\r\n');
      if (head < 0) return undefined;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(r.slice(0, head))?.[1] ?? 0);
      return r.length >= head + 4 + length ? head + 4 + length : undefined;
    });
    return { status: Number(text.slice(9, 12)), head: text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase() };
  };
  return { socket, closed, until, response };
}

async function waitForHealth(url: string, ms = 60_000): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] the server starts, reports health, logs JSON without secrets and stops cleanly on SIGTERM`,
    async (t) => {
      const store = await createTestStore(kind);
      t.teardown(() => store.cleanup());
      const port = await freePort();
      const server = startServer({ ...store.env, PORT: String(port) });
      t.teardown(() => server.child.kill('SIGKILL'));
      const health = await waitForHealth(`http://localhost:${port}/healthz`);
      t.is(health.status, 200);
      t.deepEqual(await health.json(), { status: 'ok', database: kind === 'pglite' ? 'pglite' : 'postgres' });
      const discovery = (await (await fetch(`http://localhost:${port}/.well-known/openid-configuration`)).json()) as {
        issuer: string;
      };
      t.is(discovery.issuer, `http://localhost:${port}`);

      server.child.kill('SIGTERM');
      const [code] = await server.exited;
      t.is(code, 0, server.output().stderr);
      const lines = server
        .output()
        .stdout.trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string });
      t.true(lines.some((l) => l.msg.startsWith('Umbral listening on')));
      t.true(lines.some((l) => l.msg === 'stopped'));
      const stdout = server.output().stdout;
      t.notRegex(stdout, /"d":"|private_jwk|client_secret|password/i, 'no key material or secrets in logs');
      // The development encryption key is named (so the operator knows to set one), never shown.
      const devKey = fs.readFileSync(path.join(store.dataDir, 'secret-encryption.key'), 'utf8').trim();
      t.true(devKey.length >= 40);
      t.false(stdout.includes(devKey), 'the encryption key is not logged');
    },
  );
}

test('an invalid variable stops start-up with a message naming it', async (t) => {
  const server = startServer({ PORT: 'eighty' });
  const [code] = await server.exited;
  t.is(code, 1);
  t.regex(server.output().stderr, /invalid configuration: PORT: must be a whole number/);
});

test.serial(
  `[${STORES.at(-1)}] at SIGTERM idle keep-alive connections close at once and a request in flight is answered with Connection: close`,
  async (t) => {
    const store = await createTestStore(STORES.at(-1)!);
    t.teardown(() => store.cleanup());
    const port = await freePort();
    const server = startServer({ ...store.env, PORT: String(port) });
    t.teardown(() => server.child.kill('SIGKILL'));
    await waitForHealth(`http://localhost:${port}/healthz`);
    const host = `Host: localhost:${port}\r\n`;

    const idle = await openConnection(port);
    idle.socket.write(`GET /healthz HTTP/1.1\r\n${host}\r\n`);
    const first = await idle.response();
    t.is(first.status, 200);
    t.regex(first.head, /connection: keep-alive/, 'an ordinary response keeps the connection');

    // In flight: its headers are in (Node answers `100 Continue` as it hands the request over), its body is not.
    const busy = await openConnection(port);
    const body = 'grant_type=client_credentials';
    busy.socket.write(
      `POST /token HTTP/1.1\r\n${host}Content-Type: application/x-www-form-urlencoded\r\n` +
        `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await busy.until((r) => (r.startsWith('HTTP/1.1 100 Continue\r\n\r\n') ? 25 : undefined));

    server.child.kill('SIGTERM');
    await server.logged('shutting down');
    await idle.closed;
    t.pass('the idle connection was closed by the server');

    busy.socket.write(body);
    const answer = await busy.response();
    t.is(answer.status, 400, 'the request in flight is served (an error: it names no client)');
    t.regex(answer.head, /connection: close/);
    await busy.closed;
    const [code] = await server.exited;
    t.is(code, 0, `exited by itself, not by the forced exit after 10 s: ${server.output().stderr}`);
    t.regex(server.output().stdout, /"msg":"stopped"/);
  },
);
