import test from 'ava';
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { API } from './admin-world.ts';

// Issue 12: "Key rotation through the API is picked up by a second running process without a
// restart". Two Umbral processes' worth (two servers in this process, each with its own
// provider, pool and change listener) on one PostgreSQL database; on PGlite a deployment is one
// process, which must use its new key at once.

async function adminToken(server: RunningUmbral, clientId: string, secret: string): Promise<string> {
  const config = await oidc.discovery(new URL(server.issuer), clientId, secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const tokens = await oidc.clientCredentialsGrant(config, { resource: 'urn:umbral:admin' });
  return tokens.access_token;
}

async function publishedKids(server: RunningUmbral): Promise<string[]> {
  const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
  return jwks.keys.map((key) => key.kid);
}

/** Polls until `check` holds, failing after `deadlineMs`: the reload is prompt, not instant. */
async function eventually(check: () => Promise<boolean>, deadlineMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > deadlineMs) throw new Error(`not seen within ${deadlineMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] keys rotated through the Admin API are published and used by every node, no restart`,
    async (t) => {
      const store = await createTestStore(kind);
      const first = await startUmbral(store);
      const second = kind === 'postgres' ? await startUmbral(store) : first;
      t.teardown(async () => {
        if (second !== first) await second.stop();
        await first.stop();
        await store.cleanup();
      });
      const client = await first.registerClient({
        clientId: 'automation',
        grantTypes: ['client_credentials'],
        firstParty: false,
        adminScopes: ['keys:write'],
      });
      const before = await publishedKids(second);
      const oldKid = decodeProtectedHeader(await adminToken(second, 'automation', client.client_secret!)).kid;
      t.true(before.includes(oldKid!));

      const rotation = await fetch(`${first.issuer}${API}/signing-keys/rotations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await adminToken(first, 'automation', client.client_secret!)}` },
      });
      t.is(rotation.status, 201);
      const { added, retired } = (await rotation.json()) as { added: string[]; retired: string[] };
      t.true(added.length > 0);
      t.true(retired.includes(oldKid!));

      // The other node publishes the new keys and signs with them, well within the minute.
      const elapsed = await eventually(async () => {
        const kids = await publishedKids(second);
        return added.every((kid) => kids.includes(kid));
      }, 60_000);
      t.log(`published by the other node after ${elapsed} ms`);
      await eventually(async () => {
        const kid = decodeProtectedHeader(await adminToken(second, 'automation', client.client_secret!)).kid!;
        return added.includes(kid);
      }, 60_000);
      // The retired key stays published, so tokens it signed still verify everywhere.
      t.true((await publishedKids(second)).includes(oldKid!));
    },
  );
}
