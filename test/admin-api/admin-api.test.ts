import { validate } from '@readme/openapi-parser';
import test from 'ava';
import { STORES, type StoreKind } from '../support/stores.ts';
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

for (const kind of STORES) {
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
    const basic = await call('GET', '/clients', { headers: { authorization: 'Basic YTpi' } });
    t.is(basic.status, 401);
    t.regex(basic.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
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
