import * as oidc from 'openid-client';
import type { AdminScope } from '../../src/admin-api/admin-scopes.ts';
import { resetServer } from '../support/empty-store.ts';
import { createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

export const API = '/api/admin/v1';

/** A clock the test moves (createUmbral's `now`): secret expiry, idempotency keys. */
export class TestClock {
  offsetMs = 0;
  readonly now = () => Date.now() + this.offsetMs;
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** An answer as tests read it: `json` is whatever JSON came back, read field by field. */
export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the answers' fields freely and assert on them
  json: any;
  text: string;
}

export interface AdminWorld {
  server: RunningUmbral;
  /** The environment that points the CLI at the server's store. */
  env: Record<string, string>;
  clock: TestClock;
  /** A client registered with these admin scopes, and its secret. */
  adminClient(clientId: string, scopes: AdminScope[]): Promise<{ clientId: string; secret: string }>;
  /** Keeps a client a test registered across resets, as the world's own. */
  keepClient(clientId: string, secret: string): void;
  /** An Admin API token through openid-client's client_credentials grant. */
  token(client: { clientId: string; secret: string }, scope?: string): Promise<string>;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer>;
}

export async function startAdminWorld(kind: StoreKind) {
  const store = await createTestStore(kind);
  const clock = new TestClock();
  const server = await startUmbral(store, {}, { now: clock.now });
  const registered = new Map<string, string>();
  const world: AdminWorld = {
    server,
    env: { ...store.env, ISSUER: server.issuer, USER: 'maria' },
    clock,
    async adminClient(clientId, scopes) {
      let secret = registered.get(clientId);
      if (!secret) {
        const client = await server.registerClient({
          clientId,
          grantTypes: ['client_credentials'],
          firstParty: false,
          adminScopes: scopes,
        });
        secret = client.client_secret!;
        registered.set(clientId, secret);
      }
      return { clientId, secret };
    },
    keepClient(clientId, secret) {
      registered.set(clientId, secret);
    },
    async token(client, scope) {
      const config = await oidc.discovery(new URL(server.issuer), client.clientId, client.secret, undefined, {
        execute: [oidc.allowInsecureRequests],
      });
      const tokens = await oidc.clientCredentialsGrant(config, {
        resource: 'urn:umbral:admin',
        ...(scope ? { scope } : {}),
      });
      return tokens.access_token;
    },
    async call(method, path, options = {}) {
      const response = await fetch(`${server.issuer}${API}${path}`, {
        method,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined
          ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
          : {}),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, json, text };
    },
  };
  return {
    world,
    async reset() {
      clock.offsetMs = 0;
      await server.umbral.audit.flush(); // else an earlier test's buffered events land after the reset
      await resetServer(server);
      // Portals the tests made go; the admin clients registered once stay (the provider caches them).
      const gone = await server.umbral.storage.db
        .deleteFrom('clients')
        .where('client_id', 'not in', [...registered.keys(), '__none__'])
        .returning('client_id')
        .execute();
      // And from the provider's client cache, as the client service does after its own changes.
      const { adapter } = server.umbral.provider.Client as unknown as { adapter: { forgetClient(id: string): void } };
      for (const { client_id } of gone) adapter.forgetClient(client_id);
    },
    async close() {
      await server.stop();
      await store.cleanup();
    },
  };
}

/** Whether a client secret authenticates at the token endpoint now (introspection answers 200 only then). */
export async function secretWorks(server: RunningUmbral, clientId: string, secret: string): Promise<boolean> {
  const response = await fetch(`${server.issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'token=nothing-at-all',
  });
  await response.body?.cancel();
  if (response.status !== 200 && response.status !== 401) throw new Error(`introspection answered ${response.status}`);
  return response.status === 200;
}
