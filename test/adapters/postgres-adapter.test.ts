import test from 'ava';
import { createAdapterClass, purgeExpired, type RotationAttempt } from '../../adapters/postgres-adapter.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

for (const kind of STORES) {
  test.serial(`[${kind}] the adapter stores, finds, consumes, expires and revokes every model`, async (t) => {
    const store = await createTestStore(kind);
    const storage = await openTestStorage(store);
    t.teardown(async () => {
      await storage.close();
      await store.cleanup();
    });
    const Adapter = createAdapterClass(storage.db, { refreshTokenReuseGraceSeconds: 5, clientCacheSeconds: 0 });
    const codes = new Adapter('AuthorizationCode');
    const tokens = new Adapter('AccessToken');
    const refresh = new Adapter('RefreshToken');
    const sessions = new Adapter('Session');
    const devices = new Adapter('DeviceCode');

    await codes.upsert('c1', { grantId: 'g1', accountId: 'u1' }, 60);
    await tokens.upsert('a1', { grantId: 'g1' }, 60);
    await tokens.upsert('a2', { grantId: 'g2' }, 60);
    await sessions.upsert('s1', { uid: 'uid-1', accountId: 'u1' }, 60);
    await devices.upsert('d1', { userCode: 'ABCD-EFGH', grantId: 'g3' }, 60);
    t.deepEqual(await codes.find('c1'), { grantId: 'g1', accountId: 'u1' });
    t.is(await tokens.find('c1'), undefined, 'models do not see each other');
    t.deepEqual(await sessions.findByUid('uid-1'), { uid: 'uid-1', accountId: 'u1' });
    t.deepEqual(await devices.findByUserCode('ABCD-EFGH'), { userCode: 'ABCD-EFGH', grantId: 'g3' });

    await codes.upsert('c1', { grantId: 'g1', accountId: 'u2' }, 60);
    t.is((await codes.find('c1'))?.accountId, 'u2', 'upsert replaces');

    await codes.consume('c1');
    t.true(typeof (await codes.find('c1'))?.consumed === 'number', 'consumed codes are marked');

    await tokens.revokeByGrantId('g1');
    t.is(await tokens.find('a1'), undefined);
    t.is(await codes.find('c1'), undefined);
    t.truthy(await tokens.find('a2'), 'other grants untouched');

    await tokens.upsert('short', {}, 1);
    await storage.db
      .updateTable('oidc_models')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', 'short')
      .execute();
    t.is(await tokens.find('short'), undefined, 'expired rows are not found');
    t.true((await purgeExpired(storage.db)) >= 1);
    t.is(
      (await storage.db.selectFrom('oidc_models').select('id').where('id', '=', 'short').execute()).length,
      0,
      'and purged',
    );

    await refresh.upsert('r1', { grantId: 'g2' }, 60);
    await refresh.consume('r1');
    t.true(
      typeof (await refresh.find('r1'))?.consumed === 'number',
      'outside a token request, a rotated refresh token is spent at once',
    );

    await sessions.destroy('s1');
    t.is(await sessions.findByUid('uid-1'), undefined);
  });
}

for (const kind of STORES) {
  test.serial(`[${kind}] inside a token request, a rotation is held back and the grace reads the clock`, async (t) => {
    const store = await createTestStore(kind);
    const storage = await openTestStorage(store);
    t.teardown(async () => {
      await storage.close();
      await store.cleanup();
    });
    let attempt: RotationAttempt | undefined;
    let now = Date.now();
    const Adapter = createAdapterClass(storage.db, {
      refreshTokenReuseGraceSeconds: 5,
      clientCacheSeconds: 0,
      tokenRequests: { current: () => attempt },
      now: () => now,
    });
    const refresh = new Adapter('RefreshToken');
    const access = new Adapter('AccessToken');
    const grants = new Adapter('Grant');
    await refresh.upsert('r1', { grantId: 'g1' }, 60);

    attempt = { rows: [] };
    await grants.upsert('g1', { accountId: 'u1' }, 60);
    await refresh.consume('r1');
    await refresh.upsert('r2', { grantId: 'g1' }, 60);
    await access.upsert('a2', { grantId: 'g1' }, 60);
    t.is(attempt.consumedId, 'r1', 'the consumed token is noted');
    t.deepEqual(
      attempt.rows.map((row) => [row.model, row.id]),
      [
        ['RefreshToken', 'r2'],
        ['AccessToken', 'a2'],
      ],
      'the successor and its access token are held back',
    );
    const written = await storage.db.selectFrom('oidc_models').select(['id', 'consumed_at']).orderBy('id').execute();
    t.deepEqual(written, [
      { id: 'g1', consumed_at: null },
      { id: 'r1', consumed_at: null },
    ]);

    attempt = undefined;
    await refresh.consume('r1'); // as a winning commit would, at the clock's time
    attempt = { rows: [] };
    now += 4000;
    t.is((await refresh.find('r1'))?.consumed, undefined, 'within the grace, the token request sees it unused');
    now += 2000;
    t.true(typeof (await refresh.find('r1'))?.consumed === 'number', 'after the grace, reuse is detected');
  });
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] client metadata is cached briefly: a removed client stops working once the cache expires`,
    async (t) => {
      const store = await createTestStore(kind);
      const storage = await openTestStorage(store);
      t.teardown(async () => {
        await storage.close();
        await store.cleanup();
      });
      let now = Date.now();
      const clients = new (createAdapterClass(storage.db, {
        refreshTokenReuseGraceSeconds: 5,
        clientCacheSeconds: 1,
        now: () => now,
      }))('Client');
      await storage.db
        .insertInto('clients')
        .values({ client_id: 'portal', metadata: JSON.stringify({ client_id: 'portal' }) })
        .execute();
      t.deepEqual(await clients.find('portal'), { client_id: 'portal' });
      await storage.db.deleteFrom('clients').where('client_id', '=', 'portal').execute();
      t.deepEqual(await clients.find('portal'), { client_id: 'portal' }, 'served from the cache');
      now += 900;
      t.deepEqual(await clients.find('portal'), { client_id: 'portal' }, 'still cached within the second');
      now += 200;
      t.is(await clients.find('portal'), undefined, 'gone once the cache expired');
    },
  );
}
