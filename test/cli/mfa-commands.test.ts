import { randomBytes } from 'node:crypto';
import test from 'ava';
import { FactorRepository } from '../../src/mfa/factor-repository.ts';
import { RecoveryCodes } from '../../src/mfa/recovery-codes.ts';
import { COMMAND_STORES, createTestStore, type TestStore } from '../support/stores.ts';
import { inStore, ownStderr, runUmbral } from './umbral-cli.ts';

const stores = new Map<string, TestStore>();

test.before(async () => {
  for (const kind of COMMAND_STORES) stores.set(kind, await createTestStore(kind));
});

test.after.always(async () => {
  for (const store of stores.values()) await store.cleanup();
});

for (const kind of COMMAND_STORES) {
  const env = () => stores.get(kind)!.env;

  test.serial(
    `[${kind}] users reset-mfa removes every factor and recovery code of that user only, and emails them`,
    async (t) => {
      for (const email of ['ana@example.com', 'bea@example.com']) {
        const added = await runUmbral(
          ['users', 'add', '--email', email, '--password', 'correct horse battery', '--verified'],
          { env: env() },
        );
        t.is(added.code, 0, added.stderr);
      }
      const ids = await inStore(stores.get(kind)!, async (db) => {
        const users = await db.selectFrom('users').select(['id', 'email']).execute();
        const factors = new FactorRepository(db);
        for (const user of users) {
          await factors.addSms(user.id, '+525512345678');
          await new RecoveryCodes(db, randomBytes(32)).regenerate(user.id);
        }
        return Object.fromEntries(users.map((u) => [u.email, u.id]));
      });

      const unknown = await runUmbral(['users', 'reset-mfa', '--email', 'nadie@example.com'], { env: env() });
      t.is(unknown.code, 1);
      t.is(ownStderr(unknown).trim(), 'umbral: no user with email nadie@example.com');
      const missing = await runUmbral(['users', 'reset-mfa'], { env: env() });
      t.is(missing.code, 2);
      t.regex(missing.stderr, /"users reset-mfa" needs --email/);

      const reset = await runUmbral(['users', 'reset-mfa', '--email', 'ANA@example.com'], { env: env() });
      t.is(reset.code, 0, reset.stderr);
      t.deepEqual(JSON.parse(reset.stdout), { email: 'ana@example.com', factors_removed: 1 });

      const after = await inStore(stores.get(kind)!, async (db) => ({
        ana: await new FactorRepository(db).hasFactors(ids['ana@example.com']!),
        anaCodes: await new RecoveryCodes(db).hasAny(ids['ana@example.com']!),
        bea: await new FactorRepository(db).hasFactors(ids['bea@example.com']!),
        mail: await db.selectFrom('mail_queue').select(['to_address', 'template']).execute(),
      }));
      t.false(after.ana);
      t.false(after.anaCodes);
      t.true(after.bea, 'other users keep theirs');
      t.deepEqual(after.mail, [{ to_address: 'ana@example.com', template: 'mfa-reset' }]);
    },
  );

  test.serial(`[${kind}] clients add --require-mfa registers the portal with require_mfa`, async (t) => {
    const added = await runUmbral(
      [
        'clients',
        'add',
        '--client-id',
        'nomina',
        '--redirect-uri',
        'https://nomina.example.com/cb',
        '--first-party',
        '--require-mfa',
      ],
      { env: env() },
    );
    t.is(added.code, 0, added.stderr);
    t.is((JSON.parse(added.stdout) as Record<string, unknown>)['require_mfa'], true);
    const listed = await runUmbral(['clients', 'list'], { env: env() });
    const nomina = (JSON.parse(listed.stdout) as Array<Record<string, unknown>>).find(
      (c) => c['client_id'] === 'nomina',
    );
    t.is(nomina?.['require_mfa'], true);
  });
}
