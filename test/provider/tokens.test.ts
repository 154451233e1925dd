import test from 'ava';
import * as oidc from 'openid-client';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

async function introspect(server: RunningUmbral, clientId: string, secret: string, token: string) {
  const response = await fetch(`${server.issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  return (await response.json()) as { active: boolean; sub?: string; client_id?: string };
}

/** Moves a rotated refresh token's consumption back in time, past the reuse grace. */
async function ageConsumption(server: RunningUmbral, seconds: number) {
  await server.umbral.storage.db
    .updateTable('oidc_models')
    .set({ consumed_at: new Date(Date.now() - seconds * 1000) })
    .where('model', '=', 'RefreshToken')
    .where('consumed_at', 'is not', null)
    .execute();
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] discovery advertises S256 only, iss in responses and code flow only`, async (t) => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store);
    t.teardown(async () => {
      await server.stop();
      await store.cleanup();
    });
    const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    t.deepEqual(meta['code_challenge_methods_supported'], ['S256']);
    t.is(meta['authorization_response_iss_parameter_supported'], true);
    t.deepEqual(meta['response_types_supported'], ['code']);
    t.true((meta['grant_types_supported'] as string[]).includes('client_credentials'));
    t.truthy(meta['introspection_endpoint']);
    t.truthy(meta['revocation_endpoint']);
    t.truthy(meta['end_session_endpoint']);
    t.is(meta['backchannel_logout_supported'], true);
    t.is(meta['claims_parameter_supported'], true);
    const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Array<{ alg: string; d?: string }> };
    t.deepEqual(jwks.keys.map((k) => k.alg).sort(), ['ES256', 'EdDSA', 'PS256', 'RS256']);
    t.true(
      jwks.keys.every((k) => k.d === undefined),
      'no private parts published',
    );
  });

  test.serial(
    `[${kind}] refresh tokens rotate for public clients, tolerate a concurrent reuse, and revoke on late reuse`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startUmbral(store);
      t.teardown(async () => {
        await server.stop();
        await store.cleanup();
      });
      await server.registerClient({ clientId: 'spa', redirectUris: [REDIRECT], public: true });
      await server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
      const rp = await RelyingParty.discover(server.issuer, 'spa', undefined, REDIRECT);
      const { request, callback } = await rp.signIn(new HttpBrowser(), 'ana@example.com', 'correct horse battery');
      const tokens = await rp.exchange(callback.url, request);
      const first = tokens.refresh_token!;

      const [a, b] = await Promise.all([rp.refresh(first), rp.refresh(first)]);
      t.not(a.refresh_token, first, 'rotated');
      t.is(b.refresh_token, a.refresh_token, 'a concurrent reuse gets the same successor, not a second chain');
      t.is(b.access_token, a.access_token);

      await ageConsumption(server, 60);
      const error = await t.throwsAsync(rp.refresh(first));
      t.is((error as oidc.ResponseBodyError).error, 'invalid_grant');
      const stillValid = await t.throwsAsync(rp.refresh(a.refresh_token!));
      t.is((stillValid as oidc.ResponseBodyError).error, 'invalid_grant', 'reuse revoked the whole grant');
    },
  );

  test.serial(`[${kind}] a replayed authorization code fails and revokes what the code issued`, async (t) => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store);
    t.teardown(async () => {
      await server.stop();
      await store.cleanup();
    });
    const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
    await server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
    const { request, callback } = await rp.signIn(new HttpBrowser(), 'ana@example.com', 'correct horse battery');
    const tokens = await rp.exchange(callback.url, request);
    t.true((await introspect(server, 'portal', client.client_secret!, tokens.access_token)).active);

    const replay = await t.throwsAsync(rp.exchange(callback.url, request));
    t.is((replay as oidc.ResponseBodyError).error, 'invalid_grant');
    t.false((await introspect(server, 'portal', client.client_secret!, tokens.access_token)).active);
    t.false((await introspect(server, 'portal', client.client_secret!, tokens.refresh_token!)).active);
  });

  test.serial(`[${kind}] client_credentials, introspection and revocation; secrets are checked`, async (t) => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store);
    t.teardown(async () => {
      await server.stop();
      await store.cleanup();
    });
    const machine = await server.registerClient({ clientId: 'crm-backend', grantTypes: ['client_credentials'] });
    const config = await oidc.discovery(
      new URL(server.issuer),
      'crm-backend',
      machine.client_secret,
      oidc.ClientSecretBasic(machine.client_secret!),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const tokens = await oidc.clientCredentialsGrant(config);
    t.truthy(tokens.access_token);
    const active = await introspect(server, 'crm-backend', machine.client_secret!, tokens.access_token);
    t.true(active.active);
    t.is(active.client_id, 'crm-backend');
    await oidc.tokenRevocation(config, tokens.access_token);
    t.false((await introspect(server, 'crm-backend', machine.client_secret!, tokens.access_token)).active);

    const wrong = await oidc.discovery(
      new URL(server.issuer),
      'crm-backend',
      'not-the-secret-but-long-enough-to-try',
      undefined,
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const error = await t.throwsAsync(oidc.clientCredentialsGrant(wrong));
    t.is((error as oidc.ResponseBodyError).error, 'invalid_client');
    const row = await server.umbral.storage.db
      .selectFrom('clients')
      .select('metadata')
      .where('client_id', '=', 'crm-backend')
      .executeTakeFirstOrThrow();
    t.not((row.metadata as { client_secret: string }).client_secret, machine.client_secret, 'stored hashed');
  });

  test.serial(`[${kind}] PKCE is required of confidential clients too, and redirect URIs match exactly`, async (t) => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store);
    t.teardown(async () => {
      await server.stop();
      await store.cleanup();
    });
    await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
    const browser = new HttpBrowser();
    const base = { client_id: 'portal', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, state: 'xyz' };
    const noPkce = await browser.open(`${server.issuer}/auth?${new URLSearchParams(base)}`, REDIRECT);
    const noPkceUrl = new URL(noPkce.url);
    t.is(noPkceUrl.searchParams.get('error'), 'invalid_request');
    t.regex(noPkceUrl.searchParams.get('error_description') ?? '', /PKCE/);

    const plain = await browser.open(
      `${server.issuer}/auth?${new URLSearchParams({ ...base, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' })}`,
      REDIRECT,
    );
    t.is(new URL(plain.url).searchParams.get('error'), 'invalid_request');

    const near = await browser.open(
      `${server.issuer}/auth?${new URLSearchParams({ ...base, redirect_uri: `${REDIRECT}/`, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' })}`,
      REDIRECT,
    );
    t.is(near.status, 400, 'a redirect_uri that is not registered exactly is never redirected to');
    t.regex(near.body, /no está configurada correctamente/);
    t.notRegex(near.body, /at .*\.js:\d+/, 'no stack trace');
  });
}
