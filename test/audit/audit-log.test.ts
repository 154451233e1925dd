import test from 'ava';
import { NO_AUDIT, withoutSecrets } from '../../src/audit/audit-event.ts';
import { AuditCursorError, AuditLog } from '../../src/audit/audit-log.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { emptyStore } from '../support/empty-store.ts';
import { storagesPerFile } from '../support/storages-per-file.ts';
import { STORES } from '../support/stores.ts';

const storage = storagesPerFile(test);
const DAY = 86_400_000;
const NOW = Date.parse('2026-03-01T12:00:00Z');

test('data keeps names, reasons and counts, never a password, secret, token or code', (t) => {
  t.deepEqual(
    withoutSecrets({
      reason: 'wrong_password',
      password: 'hunter2',
      newPassword: 'x',
      client_secret: 's',
      accessToken: 't',
      refresh_token: 'r',
      code: '123456',
      recoveryCode: 'abcd-efgh',
      passwordHash: '$argon2id$',
      nested: { totpSecret: 'JBSWY3DP', label: 'Mi iPhone', tokens: ['a'] },
      portals: ['portal'],
      count: 3,
      at: new Date(NOW),
    }),
    {
      reason: 'wrong_password',
      nested: { label: 'Mi iPhone' },
      portals: ['portal'],
      count: 3,
      at: '2026-03-01T12:00:00.000Z',
    },
  );
  t.notThrows(() => NO_AUDIT.record({ type: 'x', actor: { kind: 'system' } }));
});

for (const kind of STORES) {
  test.serial(
    `[${kind}] events are buffered, written at flush, read newest first with filters and a cursor`,
    async (t) => {
      const { db } = await storage(kind);
      await emptyStore(db);
      let now = NOW;
      const audit = new AuditLog({ db, logger: createLogger('silent'), now: () => now, flushIntervalMs: 60_000 });
      t.teardown(() => audit.close());
      for (let i = 0; i < 5; i++) {
        now = NOW + i * 1000;
        audit.record({
          type: i % 2 ? 'sign_in.failed' : 'sign_in.succeeded',
          actor: { kind: 'user', id: 'u1' },
          subjectUserId: i < 4 ? 'u1' : 'u2',
          organizationId: i === 2 ? 'org1' : undefined,
          ip: '203.0.113.7',
          data: { i, password: 'never' },
        });
      }
      t.is((await db.selectFrom('audit_events').select('id').execute()).length, 0, 'nothing written before the flush');
      await audit.flush();

      const all = await audit.query();
      t.deepEqual(
        all.events.map((e) => e.data['i']),
        [4, 3, 2, 1, 0],
      );
      t.is(all.nextCursor, undefined);
      t.false(JSON.stringify(all).includes('never'));
      t.deepEqual(
        (await audit.query({ type: 'sign_in.failed' })).events.map((e) => e.data['i']),
        [3, 1],
      );
      t.deepEqual(
        (await audit.query({ userId: 'u2' })).events.map((e) => e.data['i']),
        [4],
      );
      t.deepEqual(
        (await audit.query({ organizationId: 'org1' })).events.map((e) => e.data['i']),
        [2],
      );
      const range = await audit.query({ from: new Date(NOW + 1000), to: new Date(NOW + 3000) });
      t.deepEqual(
        range.events.map((e) => e.data['i']),
        [2, 1],
        'from inclusive, to exclusive',
      );

      const first = await audit.query({ limit: 2 });
      t.deepEqual(
        first.events.map((e) => e.data['i']),
        [4, 3],
      );
      const second = await audit.query({ limit: 2, cursor: first.nextCursor! });
      const third = await audit.query({ limit: 2, cursor: second.nextCursor! });
      t.deepEqual(
        [...second.events, ...third.events].map((e) => e.data['i']),
        [2, 1, 0],
      );
      t.is(third.nextCursor, undefined);
      await t.throwsAsync(() => audit.query({ cursor: 'bm9wZQ' }), { instanceOf: AuditCursorError });
    },
  );

  test.serial(`[${kind}] the retention purge deletes events older than AUDIT_RETENTION_DAYS only`, async (t) => {
    const { db } = await storage(kind);
    await emptyStore(db);
    const audit = new AuditLog({ db, logger: createLogger('silent'), now: () => NOW, flushIntervalMs: 0 });
    audit.record({ type: 'old', actor: { kind: 'system' }, at: new Date(NOW - 401 * DAY) });
    audit.record({ type: 'kept', actor: { kind: 'system' }, at: new Date(NOW - 399 * DAY) });
    await audit.close();
    t.is(await audit.purgeExpired(400), 1);
    t.deepEqual(
      (await audit.query()).events.map((e) => e.type),
      ['kept'],
    );
  });

  test.serial(`[${kind}] the buffer is bounded: beyond maxBuffered the oldest events are dropped`, async (t) => {
    const { db } = await storage(kind);
    await emptyStore(db);
    const audit = new AuditLog({ db, logger: createLogger('silent'), flushIntervalMs: 60_000, maxBuffered: 3 });
    for (let i = 0; i < 5; i++) audit.record({ type: `e${i}`, actor: { kind: 'system' } });
    await audit.close();
    t.deepEqual(
      (await audit.query()).events.map((e) => e.type).sort(),
      ['e2', 'e3', 'e4'],
      'beyond the bound the oldest are dropped',
    );
  });
}
