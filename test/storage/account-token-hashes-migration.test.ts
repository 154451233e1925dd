import { createHash } from 'node:crypto';
import test from 'ava';
import { EmailChange } from '../../src/account/email-change.ts';
import type { Config } from '../../src/config/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { Mailer } from '../../src/notify/mailer.ts';
import { hashOpaqueToken, newOpaqueToken } from '../../src/users/account-tokens.ts';
import { storeForMigrations } from '../support/migration-store.ts';
import { STORES } from '../support/stores.ts';

/** How email-change links were hashed before migration 0008. */
const base64urlHash = (token: string) => createHash('sha256').update(token).digest('base64url');

for (const kind of STORES) {
  test.serial(`[${kind}] 0008 re-encodes email-change hashes as hex, so mailed links keep working`, async (t) => {
    const { db, migrator } = await storeForMigrations(t, kind);
    const before = await migrator.migrateTo('0007-federation');
    t.falsy(before.error);

    await db.insertInto('users').values({ id: 'u1', email: 'ana@example.com' }).execute();
    const mailed = newOpaqueToken();
    const used = newOpaqueToken();
    const reset = newOpaqueToken();
    const inAnHour = new Date(Date.now() + 3_600_000);
    const changeData = JSON.stringify({ newEmail: 'ana@example.org', passwordChangedAt: null });
    await db
      .insertInto('account_tokens')
      .values([
        {
          id: 'mailed',
          user_id: 'u1',
          purpose: 'change_email',
          token_hash: base64urlHash(mailed),
          data: changeData,
          expires_at: inAnHour,
        },
        {
          id: 'used',
          user_id: 'u1',
          purpose: 'change_email',
          token_hash: base64urlHash(used),
          data: changeData,
          expires_at: inAnHour,
          consumed_at: new Date(),
        },
        {
          id: 'reset',
          user_id: 'u1',
          purpose: 'reset_password',
          token_hash: hashOpaqueToken(reset),
          data: '{}',
          expires_at: inAnHour,
        },
      ])
      .execute();

    // Up to 0008 only: later migrations are not this test's, and migrateDown below must undo 0008.
    const applied = await migrator.migrateTo('0008-account-token-hashes');
    t.falsy(applied.error);
    t.deepEqual(
      applied.results?.map((r) => r.migrationName),
      ['0008-account-token-hashes'],
    );
    const hashes = async () =>
      Object.fromEntries(
        (await db.selectFrom('account_tokens').select(['id', 'token_hash']).execute()).map((r) => [r.id, r.token_hash]),
      );
    t.deepEqual(await hashes(), {
      mailed: hashOpaqueToken(mailed),
      used: hashOpaqueToken(used),
      reset: hashOpaqueToken(reset),
    });

    const emailChange = new EmailChange({
      config: { issuer: 'https://id.example.com' } as Config,
      db,
      mailer: {} as Mailer,
      logger: createLogger('silent'),
    });
    t.true(await emailChange.isValid(mailed), 'the link mailed before the migration still works');
    t.false(await emailChange.isValid(used), 'a used one still does not');
    t.deepEqual(await emailChange.confirm(mailed), { kind: 'changed', newEmail: 'ana@example.org' });

    const down = await migrator.migrateDown();
    t.falsy(down.error);
    const restored = await hashes();
    t.is(restored['used'], base64urlHash(used), 'down restores the old encoding');
    t.is(restored['reset'], hashOpaqueToken(reset), 'other purposes untouched');
  });
}
