/**
 * The bench's servers, started and made ready for load: the bare oidc-provider with its client,
 * and Umbral as `npm start` runs it with a client, a user and one refresh token per connection.
 * run.ts measures each alone; paired.ts alternates the two under the same load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SERVER_NODE_FLAGS } from '../../src/config/server-node-flags.ts';
import { createTestStore } from '../../test/support/stores.ts';
import { Census } from './census.ts';
import { onCleanup } from './cleanup.ts';
import type { RequestSpec } from './load.ts';
import { type LoginTarget, passwordLogin } from './login.ts';
import { BENCH_METRICS_TOKEN } from './metrics-scrape.ts';
import { createBenchDatabase } from './postgres.ts';
import { rssBytes } from './proc.ts';
import {
  childEnv,
  firstJsonLine,
  freePort,
  type RunningProcess,
  startNode,
  umbralCli,
  waitHealthy,
} from './processes.ts';
import { round } from './stats.ts';

/** What starting a server needs of the bench's options. */
export interface ServerOptions {
  serverCore: string | undefined;
  connections: number;
  census: boolean;
  cpuProfileDir: string | undefined;
  log: (line: string) => void;
}

/** The census probe, compiled like the servers it goes into (`npm run bench` builds first). */
const PRELOAD = ['--import', './build/scripts/bench/census-preload.js'];
const MB = 1024 * 1024;
export const mb = (bytes: number | undefined) => round((bytes ?? 0) / MB, 1);

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function tokenSpec(origin: string, authorization: string, body: Record<string, string>): RequestSpec {
  return {
    origin,
    path: '/token',
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
    expectStatus: 200,
  };
}

/** The refresh load: each token in turn, so the requests in flight carry different ones. */
function refreshSpec(origin: string, authorization: string, tokens: string[]): RequestSpec {
  const { body: _one, ...spec } = tokenSpec(origin, authorization, { grant_type: 'refresh_token' });
  return {
    ...spec,
    bodies: tokens.map((token) =>
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
    ),
  };
}

/** A started server and the loads it answers. */
export interface ReadyServer {
  server: RunningProcess;
  origin: string;
  startupSeconds: number;
  rssAfterStart: number | undefined;
  /** The preloaded probe (SQL statements, loop delay, CPU profiles), when it was loaded. */
  census: Census | undefined;
  cc: RequestSpec;
  /**
   * The refresh load, with one refresh token per connection (refresh tokens are not rotated for
   * a confidential client, so each is sent over and over). The bare provider's memory adapter
   * keeps 1,000 entries: its tokens are taken when this is called, just before their load.
   */
  refresh(): Promise<RequestSpec>;
  /** Stops the server; `cleanup` then removes its store and scratch files. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

/** The bare provider, with its one-page password login (scripts/bench/one-page-login.ts). */
export interface ReadyBare extends ReadyServer {
  login: LoginTarget;
}

/** oidc-provider alone, default configuration, memory adapter (scripts/bench/bare-provider.ts). */
export async function startBareServer(options: ServerOptions): Promise<ReadyBare> {
  const port = await freePort();
  const started = performance.now();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-bench-'));
  const removeScratch = onCleanup('remove bench temp dir', () => fs.rmSync(scratch, { recursive: true, force: true }));
  const censusFile = path.join(scratch, 'census.json');
  const probe = options.census || options.cpuProfileDir !== undefined;
  const server = startNode(
    'bare oidc-provider',
    [...SERVER_NODE_FLAGS, ...(probe ? PRELOAD : []), 'build/scripts/bench/bare-provider.js'],
    childEnv({ PORT: String(port), ...(probe ? { BENCH_CENSUS_FILE: censusFile } : {}) }),
    { core: options.serverCore },
  );
  try {
    const ready = await firstJsonLine<{
      issuer: string;
      clientId: string;
      clientSecret: string;
      redirectUri: string;
      loginEmail: string;
      loginPassword: string;
    }>(server, 60_000);
    const origin = `http://127.0.0.1:${port}`;
    const auth = basic(ready.clientId, ready.clientSecret);
    return {
      server,
      origin,
      startupSeconds: (performance.now() - started) / 1000,
      rssAfterStart: rssBytes(server.pid),
      census: probe ? new Census(server.pid, censusFile) : undefined,
      cc: tokenSpec(origin, auth, { grant_type: 'client_credentials' }),
      login: {
        issuer: ready.issuer,
        clientId: ready.clientId,
        clientSecret: ready.clientSecret,
        redirectUri: ready.redirectUri,
        email: ready.loginEmail,
        password: ready.loginPassword,
      },
      async refresh() {
        const tokens: string[] = [];
        for (let i = 0; i < options.connections; i++) {
          const response = await fetch(`${origin}/__bench/refresh-token`, { method: 'POST' });
          tokens.push(((await response.json()) as { refresh_token: string }).refresh_token);
        }
        return refreshSpec(origin, auth, tokens);
      },
      stop: () => server.stop(),
      cleanup: () => removeScratch(),
    };
  } catch (error) {
    await server.stop();
    await removeScratch();
    throw error;
  }
}

const PASSWORD = 'bench-correct-horse-battery-staple';

/** Umbral as started by `npm start`, with what its loads need and where its store is. */
export interface ReadyUmbral extends ReadyServer {
  kind: 'pglite' | 'postgres';
  login: LoginTarget;
  databaseUrl: string | undefined;
  databaseName: string | undefined;
  dataDir: string;
  /** What the set-up noticed (a rotated refresh token). */
  notes: string[];
}

/** Umbral as `npm start` runs it, on PGlite (DATA_DIR) or PostgreSQL (a database of its own). */
export async function startUmbralServer(kind: 'pglite' | 'postgres', options: ServerOptions): Promise<ReadyUmbral> {
  const { log } = options;
  const notes: string[] = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-bench-'));
  const removeScratch = onCleanup('remove bench temp dir', () => fs.rmSync(scratch, { recursive: true, force: true }));
  let dataDir = path.join(scratch, 'data');
  let databaseUrl: string | undefined;
  let databaseName: string | undefined;
  let dropStore: (() => Promise<void>) | undefined;
  const cleanup = async () => {
    await dropStore?.();
    await removeScratch();
  };
  let server: RunningProcess | undefined;
  try {
    if (kind === 'pglite') {
      // A copy of an initialised PGlite directory (as the tests use), not a first-ever initdb.
      const store = await createTestStore('pglite');
      dropStore = onCleanup('remove PGlite data dir', () => store.cleanup());
      dataDir = store.dataDir;
    } else {
      const database = await createBenchDatabase();
      dropStore = onCleanup(`drop database ${database.name}`, () => database.drop());
      databaseUrl = database.url;
      databaseName = database.name;
      fs.mkdirSync(dataDir);
    }
    const port = await freePort();
    const issuer = `http://localhost:${port}`;
    const censusFile = path.join(scratch, 'census.json');
    const probe = options.census || options.cpuProfileDir !== undefined;
    const env = childEnv({
      PORT: String(port),
      ISSUER: issuer,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      METRICS_TOKEN: BENCH_METRICS_TOKEN,
      ...(probe ? { BENCH_CENSUS_FILE: censusFile, BENCH_CENSUS_SQL: '1' } : {}),
    });
    const started = performance.now();
    // As `npm start` runs it: the compiled code (npm run bench builds first), no tsx.
    const nodeArgs = [...SERVER_NODE_FLAGS, ...(probe ? PRELOAD : []), 'build/src/main.js'];
    server = startNode(`umbral (${kind})`, nodeArgs, env, { core: options.serverCore });
    await waitHealthy(server, `http://127.0.0.1:${port}/healthz`, 120_000);
    const startupSeconds = (performance.now() - started) / 1000;
    const rssAfterStart = rssBytes(server.pid);
    log(
      `  umbral on ${kind}: healthy in ${round(startupSeconds, 1)} s, RSS ${mb(rssAfterStart)} MB; registering client and user with the CLI…`,
    );

    // The operator CLI, as an operator would (it reaches PGlite through the server's socket).
    const cli = { core: options.serverCore === undefined ? undefined : '1' };
    const redirectUri = 'http://localhost:9/callback';
    const client = await umbralCli(
      [
        'clients',
        'add',
        '--client-id',
        'bench-portal',
        '--redirect-uri',
        redirectUri,
        '--grant-types',
        'authorization_code,refresh_token,client_credentials',
        '--first-party',
        // The bare provider signs ES256: the same work per ID token (RS256, the default, costs several times more).
        '--id-token-signing-alg',
        'ES256',
      ],
      env,
      cli,
    );
    const email = 'bench.user@example.com';
    await umbralCli(['users', 'add', '--email', email, '--password', PASSWORD, '--verified'], env, cli);
    const clientSecret = String(client['client_secret']);
    const login: LoginTarget = {
      issuer,
      clientId: 'bench-portal',
      clientSecret,
      redirectUri,
      email,
      password: PASSWORD,
    };

    // One session per connection, as many people's portals refresh: each its own refresh token.
    const refreshTokens: string[] = [];
    for (let i = 0; i < options.connections; i++) {
      const token = (await passwordLogin(login)).tokens.refresh_token;
      if (!token) throw new Error('the code exchange gave no refresh token');
      refreshTokens.push(token);
    }
    const origin = `http://127.0.0.1:${port}`;
    const auth = basic('bench-portal', clientSecret);
    const refreshLoad = refreshSpec(origin, auth, refreshTokens);
    const check = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: refreshLoad.headers,
      body: refreshLoad.bodies![0]!,
    });
    const checked = (await check.json()) as { refresh_token?: string; error?: string };
    if (!check.ok) throw new Error(`refresh failed: ${JSON.stringify(checked)}`);
    if (checked.refresh_token && checked.refresh_token !== refreshTokens[0]) {
      notes.push(
        'the refresh token was rotated: the refresh load reuses a consumed token and measures the reuse grace path',
      );
    }
    const running = server;
    return {
      kind,
      server: running,
      origin,
      startupSeconds,
      rssAfterStart,
      census: probe ? new Census(running.pid, censusFile) : undefined,
      cc: tokenSpec(origin, auth, { grant_type: 'client_credentials' }),
      refresh: async () => refreshLoad,
      login,
      databaseUrl,
      databaseName,
      dataDir,
      notes,
      stop: () => running.stop(),
      cleanup,
    };
  } catch (error) {
    await server?.stop();
    await cleanup();
    throw error;
  }
}
