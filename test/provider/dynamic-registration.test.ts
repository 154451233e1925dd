import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { pino } from 'pino';
import { storedTokenId } from '../../adapters/postgres-adapter.ts';
import { createUmbral } from '../../src/app.ts';
import { hashClientSecret } from '../../src/clients/client-secret.ts';
import { issueInitialAccessToken } from '../../src/clients/initial-access-tokens.ts';
import { UserRepository } from '../../src/users/users.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { usePooledSigningKeys } from '../support/signing-key-pool.ts';
import { createTestStore, JOURNEY_STORES, type TestStore, testConfig } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const HOUR = 60 * 60;

interface Reply {
  status: number;
  body: Record<string, unknown>;
  wwwAuthenticate: string | null;
}

async function call(url: string, method: string, token: string | undefined, body?: unknown): Promise<Reply> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {},
    wwwAuthenticate: response.headers.get('www-authenticate'),
  };
}

const portal = (extra: Record<string, unknown> = {}) => ({
  client_name: 'Portal de un socio',
  redirect_uris: [REDIRECT],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  ...extra,
});

/** Like startUmbral, with the server's log lines kept: registrations must be logged, tokens never. */
async function startLogged(store: TestStore, env: Record<string, string>) {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://localhost:${port}`;
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  usePooledSigningKeys();
  const umbral = await createUmbral(testConfig(store, { ISSUER: issuer, PORT: String(port), ...env }), logger);
  server.on('request', umbral.app.callback());
  return {
    issuer,
    umbral,
    lines,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await umbral.close();
    },
  };
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] CLIENT_REGISTRATION=token: a client registers with an initial access token, signs a person in after consent, and reads, updates and deletes itself`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startLogged(store, { CLIENT_REGISTRATION: 'token' });
      t.teardown(async () => {
        await server.stop();
        await store.cleanup();
      });
      const db = server.umbral.storage.db;
      const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      t.is(discovery['registration_endpoint'], `${server.issuer}/reg`);

      const { token, id: tokenId } = await issueInitialAccessToken(server.umbral.provider, HOUR);
      const created = await call(`${server.issuer}/reg`, 'POST', token, portal({ first_party: false }));
      t.is(created.status, 201, JSON.stringify(created.body));
      const client = created.body as {
        client_id: string;
        client_secret: string;
        registration_access_token: string;
        registration_client_uri: string;
        first_party: boolean;
      };
      t.regex(client.client_id, /^dyn-[A-Za-z0-9_-]{22}$/);
      t.true(client.client_secret.length >= 43);
      t.is(client.first_party, false, 'a third party: its users are asked to consent');
      t.is(client.registration_client_uri, `${server.issuer}/reg/${client.client_id}`);

      // At rest: the secret hashed as `clients add` stores it, the tokens only as hashes.
      const row = await db
        .selectFrom('clients')
        .select('metadata')
        .where('client_id', '=', client.client_id)
        .executeTakeFirstOrThrow();
      const stored = row.metadata as Record<string, unknown>;
      t.is(stored['client_secret'], hashClientSecret(client.client_secret));
      const everything = JSON.stringify([
        await db.selectFrom('clients').selectAll().execute(),
        await db.selectFrom('oidc_models').selectAll().execute(),
      ]);
      for (const secret of [client.client_secret, client.registration_access_token, token]) {
        t.false(everything.includes(secret), 'no secret or token in clear in the database');
      }
      const rat = await db
        .selectFrom('oidc_models')
        .select('id')
        .where('model', '=', 'RegistrationAccessToken')
        .executeTakeFirstOrThrow();
      t.is(rat.id, storedTokenId('RegistrationAccessToken', client.registration_access_token));

      const again = await call(`${server.issuer}/reg`, 'POST', token, portal());
      t.is(again.status, 401, 'an initial access token registers one client');
      t.is(again.body['error'], 'invalid_token');

      // The new client signs a person in with openid-client, consent shown.
      await new UserRepository(db).create({ email: 'ana@example.com', password: 'correct horse battery' });
      const rp = await RelyingParty.discover(server.issuer, client.client_id, client.client_secret, REDIRECT);
      const browser = new HttpBrowser();
      const { request, callback: consentPage } = await rp.signIn(browser, 'ana@example.com', 'correct horse battery');
      t.regex(consentPage.body, /Portal de un socio quiere acceder a tu cuenta/);
      const callback = await browser.submit(consentPage, '/consent', {}, REDIRECT);
      const tokens = await rp.exchange(callback.url, request);
      t.truthy(tokens.id_token);
      t.is(tokens.claims()?.aud, client.client_id);

      // Read: the registration, without the stored hash of the secret.
      const read = await call(client.registration_client_uri, 'GET', client.registration_access_token);
      t.is(read.status, 200);
      t.is(read.body['client_id'], client.client_id);
      t.false('client_secret' in read.body);
      t.is(read.body['registration_access_token'], client.registration_access_token);
      t.is((await call(client.registration_client_uri, 'GET', 'wrong-token')).status, 401);

      // Update: new redirect URI, still third party, and the registration access token rotates.
      const updated = await call(client.registration_client_uri, 'PUT', client.registration_access_token, {
        client_id: client.client_id,
        ...portal({ client_name: 'Portal renombrado', redirect_uris: ['https://socio.example/cb'] }),
      });
      t.is(updated.status, 200, JSON.stringify(updated.body));
      t.deepEqual(updated.body['redirect_uris'], ['https://socio.example/cb']);
      t.is(updated.body['first_party'], false);
      t.false('client_secret' in updated.body);
      const rotated = updated.body['registration_access_token'] as string;
      t.not(rotated, client.registration_access_token);
      t.is((await call(client.registration_client_uri, 'GET', client.registration_access_token)).status, 401);
      const refusedUpdate = await call(client.registration_client_uri, 'PUT', rotated, {
        client_id: client.client_id,
        ...portal({ first_party: true }),
      });
      t.is(refusedUpdate.status, 400);
      t.is(refusedUpdate.body['error'], 'invalid_client_metadata');
      const afterUpdate = await db
        .selectFrom('clients')
        .select('metadata')
        .where('client_id', '=', client.client_id)
        .executeTakeFirstOrThrow();
      t.is((afterUpdate.metadata as Record<string, unknown>)['client_secret'], stored['client_secret'], 'same secret');
      t.is((afterUpdate.metadata as Record<string, unknown>)['first_party'], false);

      // Delete: the client, its tokens and its registration access token go.
      const deleted = await call(client.registration_client_uri, 'DELETE', rotated);
      t.is(deleted.status, 204);
      t.is((await call(client.registration_client_uri, 'GET', rotated)).status, 401);
      t.is(
        await db.selectFrom('clients').select('client_id').where('client_id', '=', client.client_id).executeTakeFirst(),
        undefined,
      );
      const leftovers = await db
        .selectFrom('oidc_models')
        .select('model')
        .where((eb) => eb(eb.ref('payload', '->>').key('clientId' as never), '=', client.client_id))
        .execute();
      t.deepEqual(leftovers, []);

      // Logged: who (the token's id), what, and never a token or secret.
      const logged = server.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      t.like(
        logged.find((l) => l['msg'] === 'client registered itself'),
        { clientId: client.client_id, initialAccessTokenId: tokenId, registration: 'token' },
      );
      t.truthy(
        logged.find((l) => l['msg'] === 'client updated its registration' && l['clientId'] === client.client_id),
      );
      t.truthy(
        logged.find((l) => l['msg'] === 'client deleted its registration' && l['clientId'] === client.client_id),
      );
      t.truthy(
        logged.find((l) => l['msg'] === 'client registration request refused' && l['error'] === 'invalid_token'),
      );
      for (const secret of [token, client.client_secret, client.registration_access_token, rotated]) {
        t.false(server.lines.join('\n').includes(secret), 'nothing secret in the log');
      }
    },
  );

  test.serial(
    `[${kind}] CLIENT_REGISTRATION=token: without an initial access token, or with a wrong or expired one, registration is refused (401 invalid_token) and stores nothing`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startUmbral(store, { CLIENT_REGISTRATION: 'token' });
      t.teardown(async () => {
        await server.stop();
        await store.cleanup();
      });
      const expired = await issueInitialAccessToken(server.umbral.provider, HOUR);
      await server.umbral.storage.db
        .updateTable('oidc_models')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', expired.id)
        .execute();
      const valid = await issueInitialAccessToken(server.umbral.provider, HOUR);
      for (const [label, token] of [
        ['no token', undefined],
        ['a wrong token', `${valid.token.slice(0, -1)}${valid.token.endsWith('A') ? 'B' : 'A'}`],
        ['an expired token', expired.token],
        ["the token's stored id", valid.id],
      ] as const) {
        const refused = await call(`${server.issuer}/reg`, 'POST', token, portal());
        t.is(refused.status, 401, label);
        t.is(refused.body['error'], 'invalid_token', label);
        t.regex(refused.wwwAuthenticate ?? '', /^Bearer /, label);
      }
      t.deepEqual(await server.umbral.storage.db.selectFrom('clients').select('client_id').execute(), []);
    },
  );

  test.serial(
    `[${kind}] registrations breaking the client rules are refused (invalid_redirect_uri, invalid_client_metadata) and spend no token`,
    async (t) => {
      const store = await createTestStore(kind);
      const server = await startUmbral(store, { CLIENT_REGISTRATION: 'token' });
      t.teardown(async () => {
        await server.stop();
        await store.cleanup();
      });
      const { token } = await issueInitialAccessToken(server.umbral.provider, HOUR);
      const refusals: Array<[string, Record<string, unknown>, string]> = [
        [
          'http to a host other than loopback',
          portal({ redirect_uris: ['http://portal.example/cb'] }),
          'invalid_redirect_uri',
        ],
        [
          'a redirect URI with a fragment',
          portal({ redirect_uris: ['https://portal.example/cb#x'] }),
          'invalid_redirect_uri',
        ],
        [
          'a public client without PKCE (implicit)',
          portal({ token_endpoint_auth_method: 'none', response_types: ['id_token'], grant_types: ['implicit'] }),
          'invalid_client_metadata',
        ],
        [
          'a public client with client_credentials',
          portal({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'client_credentials'] }),
          'invalid_client_metadata',
        ],
        ['first_party', portal({ first_party: true }), 'invalid_client_metadata'],
        ['single_session', portal({ single_session: true }), 'invalid_client_metadata'],
        ['collect_company', portal({ collect_company: true }), 'invalid_client_metadata'],
        ['first_party not a boolean', portal({ first_party: 'no' }), 'invalid_client_metadata'],
        ['an HMAC ID token', portal({ id_token_signed_response_alg: 'HS256' }), 'invalid_client_metadata'],
        ['client_secret_jwt', portal({ token_endpoint_auth_method: 'client_secret_jwt' }), 'invalid_client_metadata'],
      ];
      for (const [label, metadata, error] of refusals) {
        const refused = await call(`${server.issuer}/reg`, 'POST', token, metadata);
        t.is(refused.status, 400, label);
        t.is(refused.body['error'], error, `${label}: ${JSON.stringify(refused.body)}`);
      }
      t.deepEqual(await server.umbral.storage.db.selectFrom('clients').select('client_id').execute(), []);

      const spa = await call(`${server.issuer}/reg`, 'POST', token, portal({ token_endpoint_auth_method: 'none' }));
      t.is(spa.status, 201, 'the token was not spent by the refusals');
      t.false('client_secret' in spa.body, 'a public client gets no secret');

      // Two registrations racing with one token: exactly one gets a client.
      const raced = await issueInitialAccessToken(server.umbral.provider, HOUR);
      const statuses = await Promise.all(
        [1, 2, 3].map(() => call(`${server.issuer}/reg`, 'POST', raced.token, portal())),
      );
      t.deepEqual(statuses.map((r) => r.status).sort(), [201, 401, 401]);
    },
  );

  test.serial(
    `[${kind}] CLIENT_REGISTRATION=open registers without a token; off (the default) has no endpoint`,
    async (t) => {
      const store = await createTestStore(kind);
      t.teardown(() => store.cleanup());
      const open = await startUmbral(store, { CLIENT_REGISTRATION: 'open' });
      try {
        const created = await call(`${open.issuer}/reg`, 'POST', undefined, portal());
        t.is(created.status, 201, JSON.stringify(created.body));
        t.is(created.body['first_party'], false);
        const refused = await call(
          `${open.issuer}/reg`,
          'POST',
          undefined,
          portal({ redirect_uris: ['http://x.example/cb'] }),
        );
        t.is(refused.body['error'], 'invalid_redirect_uri');
      } finally {
        await open.stop();
      }

      const off = await startUmbral(store);
      try {
        const discovery = (await (await fetch(`${off.issuer}/.well-known/openid-configuration`)).json()) as Record<
          string,
          unknown
        >;
        t.false('registration_endpoint' in discovery);
        t.is((await call(`${off.issuer}/reg`, 'POST', undefined, portal())).status, 404);
        const [registered] = await off.umbral.storage.db.selectFrom('clients').select('client_id').execute();
        t.is(
          (await call(`${off.issuer}/reg/${registered!.client_id}`, 'GET', 'any')).status,
          404,
          'nor management of clients registered while it was on',
        );
      } finally {
        await off.stop();
      }
    },
  );
}
