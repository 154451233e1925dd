import { validate } from '@readme/openapi-parser';
import test from 'ava';
import { importJWK, SignJWT } from 'jose';
import { SecretBox } from '../../src/crypto/secret-box.ts';
import { loadSecretEncryptionKey } from '../../src/crypto/secret-key.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { loadSigningKeys } from '../../src/provider/signing-keys.ts';
import { runUmbral } from '../cli/umbral-cli.ts';
import { JOURNEY_STORES, type StoreKind } from '../support/stores.ts';
import { worldsPerFile } from '../support/worlds-per-file.ts';
import { type AdminWorld, secretWorks, startAdminWorld } from './admin-world.ts';

const world = worldsPerFile<StoreKind, AdminWorld>(test, startAdminWorld);

const PORTAL = {
  client_id: 'crm',
  client_name: 'CRM',
  redirect_uris: ['https://crm.example/cb'],
  logo_uri: 'https://crm.example/logo.png',
  brand_color: '#0b5cad',
};

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] the OpenAPI document is valid OpenAPI 3.1 and describes every route served`, async (t) => {
    const { call, server } = await world(kind);
    const { status, json } = await call('GET', '/openapi.json');
    t.is(status, 200);
    t.is(json.openapi, '3.1.0');
    const result = await validate(structuredClone(json));
    t.true(result.valid, result.valid ? '' : JSON.stringify(result.errors));
    const served = server.umbral.adminApi
      .servedRoutes()
      .filter((route) => route.path !== '/openapi.json')
      .map((route) => `${route.method} ${route.path}`)
      .sort();
    const described = Object.entries(json.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
      .sort();
    t.deepEqual(described, served);
    t.true(served.includes('post /clients/{client_id}/secret-rotations'));
  });

  test.serial(`[${kind}] without a token, or with a bad one, the answer is 401 with WWW-Authenticate`, async (t) => {
    const { call } = await world(kind);
    const none = await call('GET', '/clients');
    t.is(none.status, 401);
    t.is(none.headers.get('content-type'), 'application/problem+json');
    t.is(none.headers.get('www-authenticate'), 'Bearer realm="umbral-admin"');
    t.is(none.json.type, 'urn:umbral:problem:unauthorized');
    const bad = await call('GET', '/clients', { token: 'not.a.token' });
    t.is(bad.status, 401);
    t.regex(bad.headers.get('www-authenticate') ?? '', /^Bearer realm="umbral-admin", error="invalid_token"/);
    const strangerBody = await call('POST', '/clients', { body: '{"client_id": ' });
    t.is(strangerBody.status, 401, 'who first: a stranger learns nothing of the body rules');
    const basic = await call('GET', '/clients', { headers: { authorization: 'Basic YTpi' } });
    t.is(basic.status, 401);
    t.regex(basic.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
  });

  test.serial(`[${kind}] a token signed by Umbral but expired, or for another audience, gets 401`, async (t) => {
    const w = await world(kind);
    await w.adminClient('automation-ro', ['clients:read']);
    const box = new SecretBox(loadSecretEncryptionKey(w.server.config, createLogger('silent')));
    const jwk = (await loadSigningKeys(w.server.umbral.storage.db, box)).find((key) => key.alg === 'ES256')!;
    const key = await importJWK(jwk, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const mint = (claims: Record<string, unknown>, iat: number) =>
      new SignJWT({ client_id: 'automation-ro', scope: 'clients:read', jti: `j${iat}`, ...claims })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid! })
        .setIssuer(w.server.issuer)
        .setSubject('automation-ro')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 600)
        .sign(key);
    const valid = await mint({ aud: 'urn:umbral:admin' }, now);
    t.is((await w.call('GET', '/clients', { token: valid })).status, 200, 'the same minting, in date, is accepted');
    const expired = await w.call('GET', '/clients', { token: await mint({ aud: 'urn:umbral:admin' }, now - 3600) });
    t.is(expired.status, 401);
    t.regex(
      expired.headers.get('www-authenticate') ?? '',
      /error="invalid_token", error_description="the token has expired"/,
    );
    const elsewhere = await w.call('GET', '/clients', { token: await mint({ aud: 'https://api.example' }, now) });
    t.is(elsewhere.status, 401);
    t.regex(elsewhere.headers.get('www-authenticate') ?? '', /aud claim/);
  });

  test.serial(`[${kind}] a client with clients:read only reads, and gets 403 on every write`, async (t) => {
    const w = await world(kind);
    const writer = await w.token(await w.adminClient('automation-rw', ['clients:read', 'clients:write']));
    t.is((await w.call('POST', '/clients', { token: writer, body: PORTAL })).status, 201);
    const reader = await w.token(await w.adminClient('automation-ro', ['clients:read']));
    t.is((await w.call('GET', '/clients/crm', { token: reader })).status, 200);
    for (const [method, path, body] of [
      ['POST', '/clients', { ...PORTAL, client_id: 'other' }],
      ['PATCH', '/clients/crm', { client_name: 'Changed' }],
      ['DELETE', '/clients/crm', undefined],
      ['POST', '/clients/crm/secret-rotations', {}],
    ] as const) {
      const answer = await w.call(method, path, { token: reader, body });
      t.is(answer.status, 403, `${method} ${path}`);
      t.is(answer.json.type, 'urn:umbral:problem:forbidden');
      t.regex(answer.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="clients:write"/);
    }
    const after = await w.call('GET', '/clients/crm', { token: reader });
    t.is(after.json.client_name, 'CRM', 'nothing changed');
    t.is((await w.call('GET', '/clients/other', { token: reader })).status, 404);
  });

  test.serial(`[${kind}] a token may name a subset of the client's admin scopes, never one it lacks`, async (t) => {
    const w = await world(kind);
    const client = await w.adminClient('automation-rw', ['clients:read', 'clients:write']);
    const narrow = await w.token(client, 'clients:read');
    t.is((await w.call('GET', '/clients', { token: narrow })).status, 200);
    t.is((await w.call('POST', '/clients', { token: narrow, body: PORTAL })).status, 403);
    const error = await t.throwsAsync(w.token(client, 'users:write'));
    t.regex(String((error as { error?: string }).error ?? error?.message), /invalid_scope/);
    const plain = await t.throwsAsync(w.token(await w.adminClient('no-admin', [] as never), undefined));
    t.truthy(plain);
  });

  test.serial(`[${kind}] a client hands out only the admin scopes it holds itself`, async (t) => {
    const w = await world(kind);
    const token = await w.token(await w.adminClient('automation-rw', ['clients:read', 'clients:write']));
    await w.adminClient('keys-bot', ['keys:write']);
    const bot = { client_id: 'bot', admin_scopes: ['keys:write'] };
    const escalating = await w.call('POST', '/clients', { token, body: bot });
    t.is(escalating.status, 403);
    t.regex(escalating.json.detail, /admin scope keys:write/);
    const within = await w.call('POST', '/clients', {
      token,
      body: { client_id: 'bot', admin_scopes: ['clients:read'] },
    });
    t.is(within.status, 201, within.text);
    t.deepEqual(within.json.client.grant_types, ['client_credentials']);
    t.is(
      (await w.call('PATCH', '/clients/bot', { token, body: { admin_scopes: ['clients:read', 'audit:read'] } })).status,
      403,
    );
    for (const [method, path, body] of [
      ['POST', '/clients/keys-bot/secret-rotations', {}],
      ['PATCH', '/clients/keys-bot', { client_name: 'Mine now' }],
      ['DELETE', '/clients/keys-bot', undefined],
    ] as const) {
      t.is((await w.call(method, path, { token, body })).status, 403, `${method} ${path}`);
    }
    const stored = await w.server.clients.list();
    t.deepEqual(stored.find((c) => c['client_id'] === 'bot')?.['admin_scopes'], ['clients:read']);
    t.false('client_name' in (stored.find((c) => c['client_id'] === 'keys-bot') ?? {}), 'nothing changed');
    const opaque = await (async () => {
      const { secret } = await w.adminClient('automation-rw', []);
      const response = await fetch(`${w.server.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`automation-rw:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      return ((await response.json()) as { access_token: string }).access_token;
    })();
    const wrongAudience = await w.call('GET', '/clients', { token: opaque });
    t.is(wrongAudience.status, 401, 'a token without the Admin API as its audience');

    const botToken = await w.token({ clientId: 'bot', secret: within.json.client_secret });
    t.is((await w.call('GET', '/clients/bot', { token: botToken })).status, 200);
    t.is((await w.call('DELETE', '/clients/bot', { token })).status, 204);
    const removed = await w.call('GET', '/clients/bot', { token: botToken });
    t.is(removed.status, 401, "a removed client's token stops at once");
    t.regex(removed.headers.get('www-authenticate') ?? '', /no longer exists/);
  });

  test.serial(`[${kind}] the same Idempotency-Key twice makes one client and answers the first answer`, async (t) => {
    const w = await world(kind);
    const token = await w.token(await w.adminClient('automation-rw', ['clients:read', 'clients:write']));
    const headers = { 'idempotency-key': 'create-crm-1' };
    const first = await w.call('POST', '/clients', { token, body: PORTAL, headers });
    const again = await w.call('POST', '/clients', { token, body: PORTAL, headers });
    t.is(first.status, 201);
    t.is(again.status, 201);
    t.deepEqual(again.json, first.json, 'the same answer, the secret included');
    t.is(again.headers.get('idempotent-replayed'), 'true');
    t.is(again.headers.get('location'), first.headers.get('location'));
    t.is(again.headers.get('etag'), first.headers.get('etag'));
    const other = await w.call('POST', '/clients', { token, body: { ...PORTAL, client_name: 'Other' }, headers });
    t.is(other.status, 422);
    t.is(other.json.type, 'urn:umbral:problem:idempotency-key-reused');
    const list = await w.call('GET', '/clients?search=crm', { token });
    t.deepEqual(
      list.json.items.map((c: { client_id: string }) => c.client_id),
      ['crm'],
    );
    const stored = await w.server.umbral.storage.db.selectFrom('admin_idempotency_keys').select('response').execute();
    t.false(JSON.stringify(stored).includes(first.json.client_secret), 'the stored answer is sealed');
    const without = await w.call('POST', '/clients', { token, body: PORTAL });
    t.is(without.status, 409, 'without the key, a second create is refused as a conflict');
  });

  test.serial(`[${kind}] a stale If-Match gives 412 and changes nothing`, async (t) => {
    const w = await world(kind);
    const token = await w.token(await w.adminClient('automation-rw', ['clients:read', 'clients:write']));
    const created = await w.call('POST', '/clients', { token, body: PORTAL });
    const read = await w.call('GET', '/clients/crm', { token });
    const etag = read.headers.get('etag')!;
    t.regex(etag, /^"[\w-]+"$/);
    const first = await w.call('PATCH', '/clients/crm', {
      token,
      body: { client_name: 'CRM 2' },
      headers: { 'if-match': etag },
    });
    t.is(first.status, 200);
    t.not(first.headers.get('etag'), etag);
    const stale = await w.call('PATCH', '/clients/crm', {
      token,
      body: { client_name: 'CRM 3' },
      headers: { 'if-match': etag },
    });
    t.is(stale.status, 412);
    t.is(stale.json.type, 'urn:umbral:problem:precondition-failed');
    const staleDelete = await w.call('DELETE', '/clients/crm', { token, headers: { 'if-match': etag } });
    t.is(staleDelete.status, 412);
    const now = await w.call('GET', '/clients/crm', { token });
    t.is(now.json.client_name, 'CRM 2');
    t.truthy(created.json.client_secret);
  });

  test.serial(
    `[${kind}] secret rotation: old and new secrets both work until the expiry, then only the new`,
    async (t) => {
      const w = await world(kind);
      const token = await w.token(await w.adminClient('automation-rw', ['clients:read', 'clients:write']));
      const created = await w.call('POST', '/clients', { token, body: PORTAL });
      const oldSecret = created.json.client_secret as string;
      t.true(await secretWorks(w.server, 'crm', oldSecret));
      const rotated = await w.call('POST', '/clients/crm/secret-rotations', {
        token,
        body: { keep_old_for_seconds: 2 * 86_400 },
      });
      t.is(rotated.status, 201, rotated.text);
      const newSecret = rotated.json.client_secret as string;
      t.not(newSecret, oldSecret);
      t.deepEqual(
        rotated.json.client.secrets.map((s: { status: string; expires_at: string | null }) => [
          s.status,
          s.expires_at !== null,
        ]),
        [
          ['current', false],
          ['previous', true],
        ],
      );
      t.false(JSON.stringify(rotated.json.client).includes('sha256$'), 'no hash is shown');
      t.true(await secretWorks(w.server, 'crm', oldSecret), 'the old one during the overlap');
      t.true(await secretWorks(w.server, 'crm', newSecret));
      w.clock.advance(2 * 86_400_000 + 1000);
      t.false(await secretWorks(w.server, 'crm', oldSecret), 'the old one after its expiry');
      t.true(await secretWorks(w.server, 'crm', newSecret));
      const listed = await w.call('GET', '/clients/crm', { token });
      t.is(listed.json.secrets.length, 1);
    },
  );
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] must-show: an automation client from clients add --admin-scopes creates a portal, rotates its secret and reads the audit log`,
    async (t) => {
      const w = await world(kind);
      const added = await runUmbral(
        ['clients', 'add', '--client-id', 'automation', '--admin-scopes', 'clients:write,users:read,audit:read'],
        { env: w.env },
      );
      t.is(added.code, 0, added.stderr);
      const automation = JSON.parse(added.stdout) as Record<string, unknown>;
      t.deepEqual(automation['grant_types'], ['client_credentials']);
      t.deepEqual(automation['admin_scopes'], ['clients:write', 'users:read', 'audit:read']);
      // openid-client's client_credentials grant, naming the Admin API as the resource and no scope: all three.
      const token = await w.token({ clientId: 'automation', secret: automation['client_secret'] as string });
      const [, payload] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
      t.is(claims['aud'], 'urn:umbral:admin');
      t.is(claims['scope'], 'clients:write users:read audit:read');
      t.is(Number(claims['exp']) - Number(claims['iat']), 600);

      const created = await w.call('POST', '/clients', { token, body: PORTAL, headers: { 'idempotency-key': 'k1' } });
      t.is(created.status, 201, created.text);
      t.is(created.headers.get('location'), '/api/admin/v1/clients/crm');
      const oldSecret = created.json.client_secret as string;
      const rotated = await w.call('POST', '/clients/crm/secret-rotations', { token });
      t.is(rotated.status, 201, rotated.text);
      const newSecret = rotated.json.client_secret as string;
      t.true(await secretWorks(w.server, 'crm', oldSecret), 'both secrets work during the overlap');
      t.true(await secretWorks(w.server, 'crm', newSecret));
      const previous = rotated.json.client.secrets[1] as { expires_at: string };
      const days = (Date.parse(previous.expires_at) - Date.now()) / 86_400_000;
      t.true(days > 6.9 && days <= 7, 'kept 7 days by default');

      const events = await w.call('GET', '/audit-events?limit=10', { token });
      t.is(events.status, 200, events.text);
      const mine = (events.json.items as Array<{ type: string; actor: unknown; data: Record<string, unknown> }>).filter(
        (e) => e.type.startsWith('client.'),
      );
      t.deepEqual(
        mine.map((e) => [e.type, e.actor, e.data['clientId']]),
        [
          ['client.secret_rotated', { kind: 'client', id: 'automation' }, 'crm'],
          ['client.added', { kind: 'client', id: 'automation' }, 'crm'],
          ['client.added', { kind: 'operator', id: 'maria' }, 'automation'],
        ],
      );
      t.like(mine[1]!.data['after'] as Record<string, unknown>, { client_name: 'CRM', brand_color: '#0b5cad' });
      const text = JSON.stringify(events.json);
      t.false(text.includes(oldSecret) || text.includes(newSecret) || text.includes('sha256$'), 'no secret in the log');

      const exported = await w.call('GET', '/audit-events?type=client.added', {
        token,
        headers: { accept: 'application/x-ndjson' },
      });
      t.is(exported.status, 200);
      t.is(exported.headers.get('content-type'), 'application/x-ndjson');
      const lines = exported.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string });
      t.deepEqual(
        lines.map((line) => line.type),
        ['client.added', 'client.added'],
      );
      // Finding a user and reading their sign-in events (users:read) comes with the users routes (users-routes.ts).
    },
  );
}
