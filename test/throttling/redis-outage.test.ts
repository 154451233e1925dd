import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { createLogger } from '../../src/logging/logger.ts';
import { FallbackThrottleStore } from '../../src/throttling/fallback-throttle-store.ts';
import { createLoginThrottle } from '../../src/throttling/login-throttle.ts';
import { REDIS_THROTTLE_OPTIONS, RedisThrottleStore } from '../../src/throttling/redis-throttle-store.ts';
import type { ThrottleStore } from '../../src/throttling/throttle-store.ts';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, openTestStorage } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

// REDIS_URL set, Redis away: throttling counts in the database (logged once), so sign-ins neither
// fail nor go unthrottled, and nothing waits on ioredis's reconnections.

/** A loopback address nothing listens on: bound, then closed again. */
async function closedRedisUrl(): Promise<string> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `redis://127.0.0.1:${port}`;
}

test('the Redis client fails fast instead of queueing commands while disconnected', async (t) => {
  const store = new RedisThrottleStore(await closedRedisUrl());
  t.teardown(() => store.close());
  const options = store.clientOptions;
  t.is(options.enableOfflineQueue, false, 'no command waits for a reconnection');
  t.is(options.maxRetriesPerRequest, 0, 'no command is retried across reconnections');
  t.true(options.connectTimeout! <= 1000, 'a black-holed address gives up within a second');
  t.true(options.commandTimeout! <= 1000, 'a connection that stops answering gives up within a second');
  t.like(options, REDIS_THROTTLE_OPTIONS);
  await t.throwsAsync(store.read(['ip:192.0.2.1']), undefined, 'Redis itself still reports the outage');
});

test('with Redis unreachable the database counts failures, still throttles, and the outage is logged once', async (t) => {
  const dbStore = await createTestStore('pglite');
  t.teardown(() => dbStore.cleanup());
  const storage = await openTestStorage(dbStore);
  t.teardown(() => storage.close());
  const logged: { level: number; msg: string }[] = [];
  const logger = createLogger('info', { write: (line: string) => logged.push(JSON.parse(line)) });
  const throttle = await createLoginThrottle({ db: storage.db, redisUrl: await closedRedisUrl(), logger });
  t.teardown(() => throttle.close());

  t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), { allowed: true, retryAfterSeconds: 0 });
  for (let i = 0; i < 6; i++) await throttle.recordFailure('ana@example.com', '192.0.2.1');
  t.false((await throttle.check('ana@example.com', '192.0.2.1')).allowed, 'the sixth failure still costs a wait');
  const counted = await storage.db.selectFrom('throttle').select('failures').execute();
  t.deepEqual(
    counted.map((row) => row.failures),
    [6, 6, 6],
    'pair, account and address counted in the database',
  );
  await throttle.recordSuccess('ana@example.com', '192.0.2.1');
  t.deepEqual(await throttle.check('ana@example.com', '192.0.2.2'), { allowed: true, retryAfterSeconds: 0 });
  t.deepEqual(
    logged.map(({ level, msg }) => ({ level, msg })),
    [{ level: 40, msg: 'Redis unreachable: login throttling counts in the database until it answers' }],
    'one warning for the whole outage',
  );
});

test('with Redis unreachable a password sign-in completes', async (t) => {
  const store = await createTestStore('pglite');
  const server = await startUmbral(store, { REDIS_URL: await closedRedisUrl() });
  t.teardown(async () => {
    await server.stop();
    await store.cleanup();
  });
  const redirect = 'http://127.0.0.1:9/cb';
  const client = await server.registerClient({ clientId: 'portal', redirectUris: [redirect] });
  await server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, redirect);
  const browser = new HttpBrowser();
  const request = await rp.authorizationRequest();
  const identifier = await browser.open(request.url, redirect);
  const { next } = await submitCredentials(browser, identifier, 'ana@example.com', 'correct horse battery', redirect);
  t.true(next.url.startsWith(redirect), `ends at the portal, not on ${next.url} (${next.status})`);
  t.truthy(new URL(next.url).searchParams.get('code'));
});

test('the fallback logs when Redis stops answering and when it answers again, once each', async (t) => {
  let redisUp = false;
  const counters = (from: string) => new Map([[from, { failures: 1, lastFailureAt: 0, expiresAt: 1 }]]);
  const store = (name: string, up: () => boolean): ThrottleStore => ({
    read: async () => {
      if (!up()) throw new Error(`${name} is down`);
      return counters(name);
    },
    recordFailure: async () => {},
    clear: async () => {},
    close: async () => {},
  });
  const logged: { level: number; msg: string }[] = [];
  const fallback = new FallbackThrottleStore(
    store('redis', () => redisUp),
    store('database', () => true),
    createLogger('info', { write: (line: string) => logged.push(JSON.parse(line)) }),
  );
  const answeredBy = async () => [...(await fallback.read(['k'])).keys()][0];
  t.is(await answeredBy(), 'database');
  t.is(await answeredBy(), 'database');
  redisUp = true;
  t.is(await answeredBy(), 'redis');
  t.is(await answeredBy(), 'redis');
  t.deepEqual(
    logged.map(({ level, msg }) => ({ level, msg })),
    [
      { level: 40, msg: 'Redis unreachable: login throttling counts in the database until it answers' },
      { level: 30, msg: 'Redis answers again: login throttling counts in Redis' },
    ],
  );
});
