import test from 'ava';
import { createLogger } from '../../src/logging/logger.ts';
import { methodOfAmr, SignInEvents } from '../../src/organizations/sign-in-events.ts';
import type { Storage } from '../../src/storage/database.ts';
import { storagesPerFile } from '../support/storages-per-file.ts';
import { STORES } from '../support/stores.ts';

const storage = storagesPerFile(test);
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-30T15:00:00Z');
const logger = createLogger('silent');

async function addUser(db: Storage['db'], id: string): Promise<void> {
  await db
    .insertInto('users')
    .values({ id, email: `${id}@example.com`, name: id })
    .execute();
}

test('the method of a sign-in is its first factor, read from amr', (t) => {
  t.is(methodOfAmr(['pwd']), 'password');
  t.is(methodOfAmr(['pwd', 'otp', 'mfa']), 'password');
  t.is(methodOfAmr(['hwk', 'mfa']), 'passkey');
  t.is(methodOfAmr(['fed']), undefined, 'the provider is looked up at the flush');
  t.is(methodOfAmr(['fed', 'pwd']), undefined);
  t.is(methodOfAmr([]), null);
});

for (const kind of STORES) {
  test.serial(`[${kind}] sign-ins are buffered, written at the flush, read per member and purged`, async (t) => {
    const { db } = await storage(kind);
    let now = NOW;
    const events = new SignInEvents({ db, logger, now: () => now, flushIntervalMs: 60_000 });
    t.teardown(() => events.close());
    await addUser(db, 'ana');
    await addUser(db, 'beto');
    await db
      .insertInto('federated_identities')
      .values([
        { id: 'f1', user_id: 'beto', provider: 'google', realm: 'g', subject: '1', last_login_at: new Date(NOW - DAY) },
        { id: 'f2', user_id: 'beto', provider: 'microsoft', realm: 'm', subject: '2', last_login_at: new Date(NOW) },
      ])
      .execute();

    events.record({
      userId: 'ana',
      organizationId: 'acme',
      clientId: 'crm',
      method: 'password',
      at: new Date(NOW - 3 * DAY),
    });
    events.signedIn({ accountId: 'ana', amr: ['hwk', 'mfa'], organizationId: 'acme', clientId: 'crm' });
    events.signedIn({ accountId: 'beto', amr: ['fed'], organizationId: 'acme', clientId: 'crm' });
    events.signedIn({ accountId: 'ana', amr: ['pwd'], organizationId: 'other', clientId: 'crm' });
    events.signedIn({ accountId: 'ana', amr: ['pwd'], organizationId: null, clientId: 'shop' });
    t.is((await db.selectFrom('sign_in_events').select('id').execute()).length, 0, 'nothing written before the flush');
    await events.flush();
    t.is((await db.selectFrom('sign_in_events').select('id').execute()).length, 5);

    const last = await events.lastSignIns('acme', ['ana', 'beto', 'nadie']);
    t.deepEqual(last.get('ana'), { at: new Date(NOW), methods: ['password', 'passkey'] });
    t.deepEqual(last.get('beto'), { at: new Date(NOW), methods: ['microsoft'] }, 'the provider used last');
    t.false(last.has('nadie'));
    t.deepEqual((await events.lastSignIns('other', ['ana'])).get('ana')?.methods, ['password']);
    t.is((await events.lastSignIns('acme', [])).size, 0);

    now = NOW + 398 * DAY;
    t.is(await events.purgeExpired(400), 1, 'the one recorded 3 days earlier is past 400 days');
    t.is(await events.purgeOlderThan(new Date(NOW + DAY)), 4);
  });

  test.serial(
    `[${kind}] a write that fails keeps the events for the next flush; after close nothing is kept`,
    async (t) => {
      const { db } = await storage(kind);
      const events = new SignInEvents({ db, logger, now: () => NOW, flushIntervalMs: 60_000 });
      t.teardown(() => events.close());
      await db.schema.alterTable('sign_in_events').renameTo('sign_in_events_away').execute();
      try {
        events.record({ userId: 'ana', clientId: 'crm', method: 'password' });
        await events.flush();
      } finally {
        await db.schema.alterTable('sign_in_events_away').renameTo('sign_in_events').execute();
      }
      await events.flush();
      const rows = await db.selectFrom('sign_in_events').selectAll().execute();
      t.is(rows.length, 1);
      t.like(rows[0], { user_id: 'ana', organization_id: null, client_id: 'crm', method: 'password' });
      await events.close();
      t.notThrows(() => events.record({ userId: 'ana', clientId: 'crm', method: 'password' }));
    },
  );
}
