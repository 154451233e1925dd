import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../src/config/project-root.ts';
import { createTestStore, STORES } from './support/stores.ts';

const root = PROJECT_ROOT;

/** `npm start`'s own command (`node … build/src/main.js`), read from package.json, run by this Node. */
const START = (() => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = pkg.scripts.start.split(' ');
  if (node !== 'node') throw new Error(`npm start is not a plain node command: ${pkg.scripts.start}`);
  return args;
})();

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, START, {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  return { child, exited, output: () => ({ stdout, stderr }) };
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
