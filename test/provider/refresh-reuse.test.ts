import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import type { Kysely } from 'kysely';
import type * as oidc from 'openid-client';
import { createUmbral } from '../../src/app.ts';
import { type ClientRegistration, ClientRegistry } from '../../src/clients/client-registry.ts';
import { createLogger, type Logger } from '../../src/logging/logger.ts';
import { REFRESH_TOKEN_REUSE_GRACE_SECONDS } from '../../src/provider/refresh-rotations.ts';
import type { Database } from '../../src/storage/schema.ts';
import { UserRepository } from '../../src/users/users.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { usePooledSigningKeys } from '../support/signing-key-pool.ts';
import { createTestStore, STORES, type StoreKind, type TestStore, testConfig } from '../support/stores.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PAST_GRACE_MS = (REFRESH_TOKEN_REUSE_GRACE_SECONDS + 5) * 1000;

interface LogLine {
  level: number;
  msg: string;
  event?: string;
  clientId?: string;
  grantId?: string;
}

/**
 * Umbral as startUmbral runs it, with two things the fixture does not offer: a clock the test
 * moves (the reuse grace reads it; no sleeping) and the logs kept as parsed lines.
 * `issuer` set: another server for the same issuer and database, as a second process would be.
 */
async function serve(t: ExecutionContext, store: TestStore, clock: () => number, logger: Logger, issuer?: string) {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const ownIssuer = issuer ?? `http://localhost:${port}`;
  usePooledSigningKeys();
  const umbral = await createUmbral(testConfig(store, { ISSUER: ownIssuer, PORT: String(port) }), logger, {
    now: clock,
  });
  server.on('request', umbral.app.callback());
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await umbral.close();
  });
  return { umbral, issuer: ownIssuer, tokenEndpoint: `http://127.0.0.1:${port}/token` };
}

async function startWithClock(t: ExecutionContext, kind: StoreKind) {
  const store = await createTestStore(kind);
  t.teardown(() => store.cleanup()); // teardowns run last first: after the servers stop
  let offset = 0;
  const clock = () => Date.now() + offset;
  const logs: LogLine[] = [];
  const raw: string[] = [];
  const logger = createLogger('info', {
    write(line: string) {
      raw.push(line);
      logs.push(JSON.parse(line) as LogLine);
    },
  });
  const { umbral, issuer } = await serve(t, store, clock, logger);
  const clients = new ClientRegistry(umbral.storage.db, umbral.provider);
  const register = (input: Partial<ClientRegistration> & { clientId: string }) =>
    clients.register({
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [],
      grantTypes: ['authorization_code', 'refresh_token'],
      firstParty: true,
      public: false,
      ...input,
    });
  await new UserRepository(umbral.storage.db).create({ email: 'ana@example.com', password: 'correct horse battery' });
  // The operator's own backend: first-party and confidential, so it may introspect any token.
  const backend = await register({ clientId: 'backend', grantTypes: ['client_credentials'], redirectUris: [] });
  return {
    issuer,
    db: umbral.storage.db,
    logs,
    /** Everything logged, as written: tokens must never appear in it. */
    logText: () => raw.join(''),
    register,
    /** Another Umbral on the same database: its token endpoint. */
    secondServer: async () => (await serve(t, store, clock, logger, issuer)).tokenEndpoint,
    advance(ms: number) {
      offset += ms;
    },
    async signIn(clientId: string, secret?: string) {
      const rp = await RelyingParty.discover(issuer, clientId, secret, REDIRECT);
      const { request, callback } = await rp.signIn(new HttpBrowser(), 'ana@example.com', 'correct horse battery');
      return { rp, tokens: await rp.exchange(callback.url, request) };
    },
    async active(token: string): Promise<boolean> {
      const response = await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`backend:${backend.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      return ((await response.json()) as { active: boolean }).active;
    },
    async refreshTokens(grantId: string) {
      return db(umbral.storage.db)
        .where('model', '=', 'RefreshToken')
        .where('grant_id', '=', grantId)
        .select(['id', 'consumed_at', 'rotation_response'])
        .execute();
    },
  };
}

function db(database: Kysely<Database>) {
  return database.selectFrom('oidc_models');
}

async function grantOf(world: Awaited<ReturnType<typeof startWithClock>>, refreshToken: string): Promise<string> {
  const row = await db(world.db).select('grant_id').where('id', '=', refreshToken).executeTakeFirstOrThrow();
  return row.grant_id!;
}

async function refreshFails(t: ExecutionContext, attempt: Promise<unknown>, message: string) {
  const error = await t.throwsAsync(attempt, undefined, message);
  t.is((error as oidc.ResponseBodyError).error, 'invalid_grant', message);
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] concurrent refreshes with one token all get the same successor, the only one that exists`,
    async (t) => {
      const world = await startWithClock(t, kind);
      await world.register({ clientId: 'spa', public: true });
      await world.register({ clientId: 'other-spa', public: true });
      const { rp, tokens } = await world.signIn('spa');
      const first = tokens.refresh_token!;
      const grantId = await grantOf(world, first);

      // Bad input changes nothing: another client's attempt and an unknown token fail, and the token stays unused.
      const other = await RelyingParty.discover(world.issuer, 'other-spa', undefined, REDIRECT);
      await refreshFails(t, other.refresh(first), 'another client cannot use the token');
      await refreshFails(t, rp.refresh('not-a-refresh-token-at-all-0123456789abcdef'), 'an unknown token fails');
      t.deepEqual(
        (await world.refreshTokens(grantId)).map((row) => row.consumed_at),
        [null],
        'the failed attempts consumed nothing',
      );

      const answers = await Promise.all(Array.from({ length: 4 }, () => rp.refresh(first)));
      const successor = answers[0]!.refresh_token!;
      t.not(successor, first, 'rotated');
      for (const answer of answers) {
        t.is(answer.refresh_token, successor, 'every concurrent use gets the same successor');
        t.is(answer.access_token, answers[0]!.access_token, 'and the same access token');
        t.is(answer.id_token, answers[0]!.id_token, 'and the same ID token');
      }

      const rows = await world.refreshTokens(grantId);
      t.deepEqual(rows.map((row) => row.id).sort(), [first, successor].sort(), 'no other successor exists');
      t.is(rows.filter((row) => row.consumed_at === null).length, 1, 'exactly one live refresh token');
      const accessTokens = await db(world.db)
        .select('id')
        .where('model', '=', 'AccessToken')
        .where('grant_id', '=', grantId)
        .execute();
      t.deepEqual(
        accessTokens.map((row) => row.id).sort(),
        [tokens.access_token, answers[0]!.access_token].sort(),
        'one access token from the code, one from the refresh',
      );
      const rotated = rows.find((row) => row.id === first)!;
      t.regex(rotated.rotation_response!, /^v1\./, 'the kept response is sealed');
      t.false(rotated.rotation_response!.includes(successor), 'and does not show the successor');

      t.true(await world.active(answers[0]!.access_token), 'the shared access token is valid');
      t.true(await world.active(successor));
      const next = await rp.refresh(successor);
      t.truthy(next.access_token, 'the successor works');
      t.not(next.refresh_token, successor);

      const replays = world.logs.filter((line) => line.event === 'refresh_token.replayed');
      t.is(replays.length, 3, 'each repeat is logged');
      t.true(replays.every((line) => line.clientId === 'spa' && line.grantId === grantId));
      for (const token of [first, successor, answers[0]!.access_token]) t.false(world.logText().includes(token));
    },
  );

  test.serial(
    `[${kind}] a repeat within the grace gets the same response; a reuse after it revokes the whole chain and is logged`,
    async (t) => {
      const world = await startWithClock(t, kind);
      await world.register({ clientId: 'spa', public: true });
      const { rp, tokens } = await world.signIn('spa');
      const first = tokens.refresh_token!;
      const grantId = await grantOf(world, first);

      const answer = await rp.refresh(first);
      world.advance(3000);
      const repeat = await rp.refresh(first);
      t.is(repeat.refresh_token, answer.refresh_token, 'a repeat 3 s later gets the same successor');
      t.is(repeat.access_token, answer.access_token);
      t.true(repeat.expires_in! <= answer.expires_in! - 3, 'its expires_in counts from the first answer');

      // The successor is rotated twice more; the second of these is past the first rotations' grace.
      const second = await rp.refresh(answer.refresh_token!);
      world.advance(PAST_GRACE_MS);
      const third = await rp.refresh(second.refresh_token!);
      const kept = (await world.refreshTokens(grantId)).filter((row) => row.rotation_response !== null);
      t.deepEqual(
        kept.map((row) => row.id),
        [second.refresh_token],
        'responses past their grace are no longer kept',
      );

      await refreshFails(t, rp.refresh(first), 'the first token, reused after its grace');
      await refreshFails(t, rp.refresh(third.refresh_token!), 'the live end of the chain is revoked with it');
      t.false(await world.active(third.refresh_token!));
      t.false(await world.active(third.access_token), 'so are the access tokens');
      t.false(await world.active(answer.access_token));
      t.deepEqual(await world.refreshTokens(grantId), [], 'nothing of the grant is left');

      const reuses = world.logs.filter((line) => line.event === 'refresh_token.reused');
      t.is(reuses.length, 1);
      t.like(reuses[0], { level: 40, clientId: 'spa', grantId });
      for (const token of [first, third.refresh_token!, third.access_token]) t.false(world.logText().includes(token));
    },
  );

  test.serial(`[${kind}] confidential clients keep their refresh token: no rotation, no grace involved`, async (t) => {
    const world = await startWithClock(t, kind);
    const portal = await world.register({ clientId: 'portal' });
    const { rp, tokens } = await world.signIn('portal', portal.client_secret);
    const refreshToken = tokens.refresh_token!;
    const grantId = await grantOf(world, refreshToken);

    const [a, b] = await Promise.all([rp.refresh(refreshToken), rp.refresh(refreshToken)]);
    t.is(a.refresh_token, refreshToken, 'the same refresh token comes back');
    t.is(b.refresh_token, refreshToken);
    t.not(a.access_token, b.access_token, 'each refresh gets its own access token');
    t.true(await world.active(a.access_token));
    t.true(await world.active(b.access_token));
    world.advance(PAST_GRACE_MS);
    const later = await rp.refresh(refreshToken);
    t.is(later.refresh_token, refreshToken, 'and keeps working after any grace');
    t.deepEqual(
      (await world.refreshTokens(grantId)).map((row) => [row.consumed_at, row.rotation_response]),
      [[null, null]],
      'never consumed, nothing kept',
    );
    t.deepEqual(
      world.logs.filter((line) => line.event?.startsWith('refresh_token.')),
      [],
    );
  });
}

/** A refresh through a given server's token endpoint, as a public client sends it. */
async function refreshAt(tokenEndpoint: string, clientId: string, refreshToken: string) {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

// Several processes share only PostgreSQL (PGlite is one process by design): two servers stand for them.
if (STORES.includes('postgres')) {
  test.serial(
    '[postgres] two servers on one database: concurrent refreshes through both get one successor',
    async (t) => {
      const world = await startWithClock(t, 'postgres');
      await world.register({ clientId: 'spa', public: true });
      const { tokens } = await world.signIn('spa');
      const grantId = await grantOf(world, tokens.refresh_token!);
      const servers = [`${world.issuer.replace('localhost', '127.0.0.1')}/token`, await world.secondServer()];

      let current = tokens.refresh_token!;
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          Array.from({ length: 6 }, (_, i) => refreshAt(servers[i % 2]!, 'spa', current)),
        );
        t.deepEqual(
          answers.map((answer) => answer.status),
          Array(6).fill(200),
        );
        const successors = new Set(answers.map((answer) => answer.body['refresh_token']));
        t.is(successors.size, 1, `round ${round}: one successor across both servers`);
        t.is(new Set(answers.map((answer) => answer.body['access_token'])).size, 1);
        const [successor] = successors;
        t.not(successor, current);
        current = successor!;
      }
      const live = (await world.refreshTokens(grantId)).filter((row) => row.consumed_at === null);
      t.deepEqual(
        live.map((row) => row.id),
        [current],
        'one live refresh token after three contested rotations',
      );
      t.true(await world.active(current));
    },
  );
}
