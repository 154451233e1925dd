import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import type { Storage } from '../../src/storage/database.ts';
import { createLoginThrottle, type LoginThrottle, purgeExpiredThrottle } from '../../src/throttling/login-throttle.ts';
import { hashIdentifier } from '../../src/throttling/throttle-keys.ts';
import type { ThrottlePolicyOverrides } from '../../src/throttling/throttle-policy.ts';
import { storagesPerFile } from '../support/storages-per-file.ts';
import { STORES, type StoreKind } from '../support/stores.ts';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Counters live in the database (each kind in STORES) or in Redis, which CI always has. */
type Backend = StoreKind | 'redis';
const BACKENDS: Backend[] = [...STORES, 'redis'];

interface Harness {
  throttle: LoginThrottle;
  /** Another throttle on the same counters, as a second server process would have. */
  secondThrottle(): Promise<LoginThrottle>;
  storage: Storage;
  /** The test's clock, in ms; tests move it instead of sleeping. */
  clock: { now: number; advance(ms: number): void };
  /** Every stored counter: key (without the Redis prefix) → failures. */
  storedFailures(): Promise<Record<string, number>>;
}

const storageFor = storagesPerFile(test);

async function setup(t: ExecutionContext, backend: Backend, policy?: ThrottlePolicyOverrides): Promise<Harness> {
  // Redis tests use a database too, because createLoginThrottle takes one; it must stay unused.
  // One store per kind for the file, emptied for each test; the throttles and Redis keys go with the test.
  const storage = await storageFor(backend === 'redis' ? 'pglite' : backend);
  const clock = {
    now: Date.now(),
    advance: (ms: number) => {
      clock.now += ms;
    },
  };
  const throttles: LoginThrottle[] = [];
  const redisKeyPrefix = `umbral:throttle:test-${randomBytes(6).toString('hex')}:`;
  const redisUrl = backend === 'redis' ? REDIS_URL : undefined;
  const inspector = backend === 'redis' ? new Redis(REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  inspector?.on('error', () => {});
  t.teardown(async () => {
    for (const throttle of throttles) await throttle.close();
    try {
      if (inspector?.status === 'ready') {
        const keys = await inspector.keys(`${redisKeyPrefix}*`);
        if (keys.length) await inspector.del(...keys);
      }
    } finally {
      inspector?.disconnect();
    }
  });
  if (inspector) {
    // A missing Redis must fail these tests, not skip them: CI has one.
    await inspector.ping().catch((error: Error) => {
      throw new Error(`Redis does not answer at ${REDIS_URL}: ${error.message}`);
    });
  }
  const newThrottle = async () => {
    const throttle = await createLoginThrottle({
      db: storage.db,
      redisUrl,
      redisKeyPrefix,
      now: () => clock.now,
      ...(policy ? { policy } : {}),
    });
    throttles.push(throttle);
    return throttle;
  };
  async function storedFailures(): Promise<Record<string, number>> {
    const failures: Record<string, number> = {};
    if (inspector) {
      for (const key of await inspector.keys(`${redisKeyPrefix}*`)) {
        failures[key.slice(redisKeyPrefix.length)] = Number(await inspector.hget(key, 'failures'));
      }
    } else {
      for (const row of await storage.db.selectFrom('throttle').select(['key', 'failures']).execute())
        failures[row.key] = row.failures;
    }
    return failures;
  }
  return { throttle: await newThrottle(), secondThrottle: newThrottle, storage, clock, storedFailures };
}

async function fail(throttle: LoginThrottle, identifier: string, ip: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await throttle.recordFailure(identifier, ip);
}

const allowed = { allowed: true, retryAfterSeconds: 0 };
const blockedFor = (retryAfterSeconds: number) => ({ allowed: false, retryAfterSeconds });
const acct = (email: string) => `acct:${hashIdentifier(email)}`;
const pair = (email: string, ip: string) => `acct-ip:${hashIdentifier(email)}:${ip}`;

for (const backend of BACKENDS) {
  test.serial(`[${backend}] free failures, then waits of 1, 2, 4… s up to 15 min that pass with time`, async (t) => {
    const { throttle, clock } = await setup(t, backend);
    for (let failure = 1; failure <= 5; failure++) {
      await throttle.recordFailure('ana@example.com', '192.0.2.1');
      t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), allowed, `failure ${failure} is free`);
    }
    for (const waitSeconds of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]) {
      await throttle.recordFailure('ana@example.com', '192.0.2.1');
      t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), blockedFor(waitSeconds));
      clock.advance(waitSeconds * SECOND - 1);
      t.deepEqual(
        await throttle.check('ana@example.com', '192.0.2.1'),
        blockedFor(1),
        'still waiting 1 ms before the end',
      );
      clock.advance(1);
      t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), allowed, `released after ${waitSeconds} s`);
    }
  });

  test.serial(
    `[${backend}] failures against one email from many addresses never hold a fresh address more than 60 s`,
    async (t) => {
      const { throttle, clock } = await setup(t, backend);
      for (let i = 1; i <= 100; i++) {
        await throttle.recordFailure('victim@example.com', `10.0.0.${i}`);
        const decision = await throttle.check('victim@example.com', '203.0.113.7');
        t.true(
          decision.retryAfterSeconds <= 60,
          `after ${i} failures the victim waits ${decision.retryAfterSeconds} s`,
        );
        if (i <= 10) t.deepEqual(decision, allowed, `failure ${i} is free`);
        clock.advance(SECOND);
      }
      clock.advance(-SECOND);
      t.deepEqual(
        await throttle.check('victim@example.com', '203.0.113.7'),
        blockedFor(60),
        'distributed guessing is still slowed',
      );
      clock.advance(60 * SECOND);
      t.deepEqual(await throttle.check('victim@example.com', '203.0.113.7'), allowed);
    },
  );

  test.serial(`[${backend}] an address spraying many emails is blocked, other addresses are not`, async (t) => {
    const { throttle } = await setup(t, backend);
    for (let i = 1; i <= 50; i++) await throttle.recordFailure(`user${i}@example.com`, '198.51.100.9');
    t.deepEqual(await throttle.check('next@example.com', '198.51.100.9'), allowed, '50 failures are free');
    await throttle.recordFailure('user51@example.com', '198.51.100.9');
    t.deepEqual(await throttle.check('next@example.com', '198.51.100.9'), blockedFor(1));
    for (let i = 52; i <= 60; i++) await throttle.recordFailure(`user${i}@example.com`, '198.51.100.9');
    t.deepEqual(await throttle.check('next@example.com', '198.51.100.9'), blockedFor(512));
    t.deepEqual(await throttle.check('next@example.com', '198.51.100.10'), allowed);
    t.deepEqual(await throttle.check('user1@example.com', '198.51.100.10'), allowed);
  });

  test.serial(`[${backend}] addresses of one IPv6 /64 count as one address`, async (t) => {
    const { throttle } = await setup(t, backend);
    for (let i = 1; i <= 51; i++)
      await throttle.recordFailure(`user${i}@example.com`, `2001:db8:7:8::${i.toString(16)}`);
    t.deepEqual(await throttle.check('next@example.com', '2001:db8:7:8:ffff::1'), blockedFor(1));
    t.deepEqual(await throttle.check('next@example.com', '2001:db8:7:9::1'), allowed);
  });

  test.serial(
    `[${backend}] a good login clears the account and account-address counters, not the address one`,
    async (t) => {
      const { throttle, storedFailures } = await setup(t, backend);
      await fail(throttle, 'ana@example.com', '192.0.2.1', 8);
      await fail(throttle, 'ana@example.com', '192.0.2.2', 2);
      await fail(throttle, 'bob@example.com', '192.0.2.1', 3);
      t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), blockedFor(4));
      await throttle.recordSuccess('ana@example.com', '192.0.2.1');
      t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), allowed);
      t.deepEqual(await storedFailures(), {
        'ip:192.0.2.1': 11,
        [pair('ana@example.com', '192.0.2.2')]: 2,
        'ip:192.0.2.2': 2,
        [acct('bob@example.com')]: 3,
        [pair('bob@example.com', '192.0.2.1')]: 3,
      });
    },
  );

  test.serial(`[${backend}] a window without failures starts the count over`, async (t) => {
    const { throttle, clock, storedFailures } = await setup(t, backend);
    await fail(throttle, 'ana@example.com', '192.0.2.1', 6);
    t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), blockedFor(1));
    clock.advance(15 * MINUTE);
    await throttle.recordFailure('ana@example.com', '192.0.2.1');
    t.deepEqual(
      await storedFailures(),
      { [pair('ana@example.com', '192.0.2.1')]: 7, [acct('ana@example.com')]: 7, 'ip:192.0.2.1': 7 },
      'the window is still open at its last millisecond',
    );
    clock.advance(15 * MINUTE + 1);
    t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), allowed);
    await throttle.recordFailure('ana@example.com', '192.0.2.1');
    t.deepEqual(
      await storedFailures(),
      { [pair('ana@example.com', '192.0.2.1')]: 1, [acct('ana@example.com')]: 1, 'ip:192.0.2.1': 8 },
      'the address window is an hour',
    );
    t.deepEqual(await throttle.check('ana@example.com', '192.0.2.1'), allowed);
    clock.advance(60 * MINUTE + 1);
    await throttle.recordFailure('ana@example.com', '192.0.2.1');
    t.is((await storedFailures())['ip:192.0.2.1'], 1);
  });

  test.serial(`[${backend}] 20 concurrent failures from two processes count as 20`, async (t) => {
    const { throttle, secondThrottle, storedFailures } = await setup(t, backend);
    const other = await secondThrottle();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? throttle : other).recordFailure('ana@example.com', '192.0.2.1')),
    );
    t.deepEqual(await storedFailures(), {
      [pair('ana@example.com', '192.0.2.1')]: 20,
      [acct('ana@example.com')]: 20,
      'ip:192.0.2.1': 20,
    });
  });

  test.serial(`[${backend}] emails are normalized and never stored in clear`, async (t) => {
    const { throttle, storedFailures, storage } = await setup(t, backend);
    await throttle.recordFailure(' Ana.Maria@Example.COM ', '192.0.2.1');
    await throttle.recordFailure('ana.maria@example.com', '::ffff:192.0.2.1');
    const stored = await storedFailures();
    t.deepEqual(stored, {
      [pair('ana.maria@example.com', '192.0.2.1')]: 2,
      [acct('ana.maria@example.com')]: 2,
      'ip:192.0.2.1': 2,
    });
    for (const key of Object.keys(stored)) {
      t.regex(key, /^(acct:[0-9a-f]{64}|acct-ip:[0-9a-f]{64}:192\.0\.2\.1|ip:192\.0\.2\.1)$/);
      t.false(/ana|maria|example/i.test(key), `${key} reveals the email`);
    }
    if (backend === 'redis')
      t.deepEqual(
        await storage.db.selectFrom('throttle').selectAll().execute(),
        [],
        'Redis mode leaves the database alone',
      );
  });

  if (backend !== 'redis') {
    test.serial(`[${backend}] purgeExpiredThrottle deletes counters whose window has passed`, async (t) => {
      const { throttle, clock, storage, storedFailures } = await setup(t, backend);
      clock.advance(-2 * 60 * MINUTE);
      await throttle.recordFailure('old@example.com', '192.0.2.1');
      clock.advance(2 * 60 * MINUTE);
      await throttle.recordFailure('new@example.com', '192.0.2.2');
      t.is(await purgeExpiredThrottle(storage.db), 3);
      t.deepEqual(await storedFailures(), {
        [pair('new@example.com', '192.0.2.2')]: 1,
        [acct('new@example.com')]: 1,
        'ip:192.0.2.2': 1,
      });
    });
  }
}
