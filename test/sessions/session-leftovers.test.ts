import test from 'ava';
import { purgeSessionLeftovers, SessionActivity } from '../../src/sessions/session-activity.ts';
import { purgeExpiredAccountTokens } from '../../src/users/account-tokens.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

const HOURS_AGO = (h: number) => new Date(Date.now() - h * 60 * 60 * 1000);

for (const kind of STORES) {
  test.serial(
    `[${kind}] purging drops activity of sessions that are gone and expired end notices, nothing else`,
    async (t) => {
      const store = await createTestStore(kind);
      const storage = await openTestStorage(store);
      t.teardown(async () => {
        await storage.close();
        await store.cleanup();
      });
      const { db } = storage;
      await db
        .insertInto('oidc_models')
        .values({
          model: 'Session',
          id: 'cookie-1',
          uid: 'live',
          account_id: 'u1',
          payload: JSON.stringify({ uid: 'live', accountId: 'u1' }),
          expires_at: new Date(Date.now() + 3_600_000),
          grant_id: null,
          user_code: null,
          consumed_at: null,
        })
        .execute();
      await db
        .insertInto('session_activity')
        .values([
          {
            session_uid: 'live',
            account_id: 'u1',
            user_agent: 'ua',
            ip: '10.0.0.1',
            created_at: HOURS_AGO(3),
            last_seen_at: HOURS_AGO(1),
          },
          {
            session_uid: 'gone',
            account_id: 'u1',
            user_agent: 'ua',
            ip: '10.0.0.2',
            created_at: HOURS_AGO(3),
            last_seen_at: HOURS_AGO(2),
          },
          // Written a moment before its session row, as a sign-in does: kept.
          { session_uid: 'signing-in', account_id: 'u1', user_agent: 'ua', ip: '10.0.0.3', last_seen_at: new Date() },
        ])
        .execute();
      await db
        .insertInto('ended_sessions')
        .values([
          { cookie_hash: 'old', reason: 'signed_in_elsewhere', expires_at: HOURS_AGO(1) },
          { cookie_hash: 'fresh', reason: 'signed_in_elsewhere', expires_at: new Date(Date.now() + 3_600_000) },
        ])
        .execute();

      t.is(await purgeSessionLeftovers(db), 2);
      const activity = await db.selectFrom('session_activity').select('session_uid').orderBy('session_uid').execute();
      t.deepEqual(
        activity.map((r) => r.session_uid),
        ['live', 'signing-in'],
      );
      const notices = await db.selectFrom('ended_sessions').select('cookie_hash').execute();
      t.deepEqual(
        notices.map((r) => r.cookie_hash),
        ['fresh'],
      );

      // Seen after an hour: last seen moves. Seen again within the minute from the same address: no
      // write. From another address: recorded at once.
      const sessions = new SessionActivity(db);
      const lastSeen = async () =>
        (
          await db
            .selectFrom('session_activity')
            .select('last_seen_at')
            .where('session_uid', '=', 'live')
            .executeTakeFirstOrThrow()
        ).last_seen_at.getTime();
      await sessions.record({ sessionUid: 'live', accountId: 'u1', userAgent: 'ua', ip: '10.0.0.1' });
      t.true((await lastSeen()) > Date.now() - 60_000);
      // Half a minute later (moved back rather than waited for), a sighting writes nothing.
      const touched = new Date(Date.now() - 30_000);
      await db
        .updateTable('session_activity')
        .set({ last_seen_at: touched })
        .where('session_uid', '=', 'live')
        .execute();
      await sessions.record({ sessionUid: 'live', accountId: 'u1', userAgent: 'ua', ip: '10.0.0.1' });
      t.is(await lastSeen(), touched.getTime());
      // Another node, which remembers no sighting of its own: the statement itself writes nothing.
      await new SessionActivity(db).record({ sessionUid: 'live', accountId: 'u1', userAgent: 'ua', ip: '10.0.0.1' });
      t.is(await lastSeen(), touched.getTime(), 'the upsert leaves a fresh, unchanged row alone');
      await sessions.record({ sessionUid: 'live', accountId: 'u1', userAgent: 'ua', ip: '10.9.9.9' });
      const moved = await db
        .selectFrom('session_activity')
        .selectAll()
        .where('session_uid', '=', 'live')
        .executeTakeFirstOrThrow();
      t.is(moved.ip, '10.9.9.9');
      // The same uid for another account within the minute (never expected): the row follows it.
      await new SessionActivity(db).record({ sessionUid: 'live', accountId: 'u2', userAgent: 'ua2', ip: '10.9.9.9' });
      const handedOver = await db
        .selectFrom('session_activity')
        .selectAll()
        .where('session_uid', '=', 'live')
        .executeTakeFirstOrThrow();
      t.like(handedOver, { account_id: 'u2', user_agent: 'ua2', ip: '10.9.9.9' });
    },
  );
}

test.serial('account tokens are purged a week after they expire, not before', async (t) => {
  const store = await createTestStore(STORES[0]!);
  const storage = await openTestStorage(store);
  t.teardown(async () => {
    await storage.close();
    await store.cleanup();
  });
  const { db } = storage;
  const user = await db
    .insertInto('users')
    .values({ id: 'u1', email: 'a@example.com' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const row = (id: string, expiresAt: Date) => ({
    id,
    user_id: user.id,
    purpose: 'reset_password',
    token_hash: id,
    expires_at: expiresAt,
  });
  await db
    .insertInto('account_tokens')
    .values([
      row('ancient', HOURS_AGO(24 * 8)),
      row('recent', HOURS_AGO(24)),
      row('live', new Date(Date.now() + 3_600_000)),
    ])
    .execute();
  t.is(await purgeExpiredAccountTokens(db), 1);
  const left = await db.selectFrom('account_tokens').select('id').orderBy('id').execute();
  t.deepEqual(
    left.map((r) => r.id),
    ['live', 'recent'],
  );
});
