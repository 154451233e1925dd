import { randomBytes } from 'node:crypto';
import test from 'ava';
import { writeModelRow } from '../../adapters/postgres-adapter.ts';
import { SecretBox, SecretBoxError } from '../../src/crypto/secret-box.ts';
import { REFRESH_TOKEN_REUSE_GRACE_SECONDS, RefreshRotations } from '../../src/provider/refresh-rotations.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

const PAST_GRACE_MS = (REFRESH_TOKEN_REUSE_GRACE_SECONDS + 5) * 1000;

// The commit on its own; test/provider/refresh-reuse.test.ts drives it through the token endpoint.
for (const kind of STORES) {
  test.serial(`[${kind}] a kept response opens only for its own token and is forgotten after the grace`, async (t) => {
    const store = await createTestStore(kind);
    const storage = await openTestStorage(store);
    t.teardown(async () => {
      await storage.close();
      await store.cleanup();
    });
    let now = Date.now();
    const rotations = new RefreshRotations({
      db: storage.db,
      secretBox: new SecretBox(randomBytes(32)),
      now: () => now,
    });
    const row = (id: string) => ({
      model: 'RefreshToken',
      id,
      payload: JSON.stringify({ grantId: 'g1' }),
      grant_id: 'g1',
      expires_at: new Date(now + 60_000),
    });
    await writeModelRow(storage.db, row('r1'));
    const response = { access_token: 'a2', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r2' };

    t.like(await rotations.commit('r1', [row('r2')], response), { kind: 'issued', grantId: 'g1' });
    now += 2000;
    t.deepEqual(await rotations.commit('r1', [row('r3')], { ...response, refresh_token: 'r3' }), {
      kind: 'replayed',
      grantId: 'g1',
      response: { ...response, expires_in: 3598 },
    });
    const ids = await storage.db.selectFrom('oidc_models').select('id').orderBy('id').execute();
    t.deepEqual(
      ids.map((r) => r.id),
      ['r1', 'r2'],
      'the loser wrote nothing',
    );
    t.deepEqual(await rotations.commit('gone', [row('r4')], response), { kind: 'spent' }, 'a token revoked meanwhile');

    // The sealed response moved onto another consumed token does not open there.
    const { rotation_response } = await storage.db
      .selectFrom('oidc_models')
      .select('rotation_response')
      .where('id', '=', 'r1')
      .executeTakeFirstOrThrow();
    await writeModelRow(storage.db, row('r5'));
    await storage.db
      .updateTable('oidc_models')
      .set({ consumed_at: new Date(now), rotation_response })
      .where('id', '=', 'r5')
      .execute();
    await t.throwsAsync(rotations.commit('r5', [], response), { instanceOf: SecretBoxError });

    t.is(await rotations.forgetSpent(), 0, 'kept while within the grace');
    now += PAST_GRACE_MS;
    t.is(await rotations.forgetSpent(), 2, 'forgotten after it');
    t.like(await rotations.commit('r1', [], response), { kind: 'spent' });
  });
}
