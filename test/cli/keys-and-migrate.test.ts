import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { RETIRED_KEY_PUBLISH_SECONDS } from '../../src/provider/configuration.ts';
import { migrations } from '../../src/storage/migrations/index.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';
import { inStore, runUmbral, spawnUmbral } from './umbral-cli.ts';

interface Rotation {
  added: string[];
  retired: string[];
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] migrate applies pending migrations once; keys rotate adds a key per alg (RS256, PS256, ES256, EdDSA) and retires the old ones`,
    async (t) => {
      const store = await createTestStore(kind, { migrated: false });
      t.teardown(() => store.cleanup());

      const first = await runUmbral(['migrate'], { env: store.env });
      t.is(first.code, 0, first.stderr);
      t.is(
        first.stdout,
        Object.keys(migrations)
          .map((name) => `Applied migration ${name}\n`)
          .join(''),
      );
      const second = await runUmbral(['migrate'], { env: store.env });
      t.is(second.code, 0, second.stderr);
      t.is(second.stdout, 'No pending migrations: the database is up to date.\n');

      // A fresh database has no keys yet (the server makes them at first start): the first rotation retires none.
      const initial = await runUmbral(['keys', 'rotate'], { env: store.env });
      t.is(initial.code, 0, initial.stderr);
      const firstKeys = JSON.parse(initial.stdout) as Rotation;
      t.is(firstKeys.added.length, 4);
      t.deepEqual(firstKeys.retired, []);

      const rotatedAt = Date.now();
      const rotated = await runUmbral(['keys', 'rotate'], { env: store.env });
      t.is(rotated.code, 0, rotated.stderr);
      const rotation = JSON.parse(rotated.stdout) as Rotation;
      t.is(rotation.added.length, 4);
      t.deepEqual([...rotation.retired].sort(), [...firstKeys.added].sort());
      t.regex(rotated.stderr, /no restart is needed/);

      const { keys, cookieKeys } = await inStore(store, async (db) => ({
        keys: await db.selectFrom('signing_keys').selectAll().execute(),
        cookieKeys: await db.selectFrom('cookie_keys').select('id').execute(),
      }));
      t.is(keys.length, 8);
      const active = keys.filter((k) => k.retired_at === null);
      t.deepEqual(active.map((k) => k.kid).sort(), [...rotation.added].sort());
      t.deepEqual(active.map((k) => k.alg).sort(), ['ES256', 'EdDSA', 'PS256', 'RS256']);
      for (const key of keys.filter((k) => rotation.retired.includes(k.kid))) {
        const publishedFor = (key.unpublish_at!.getTime() - rotatedAt) / 1000;
        t.true(Math.abs(publishedFor - RETIRED_KEY_PUBLISH_SECONDS) < 120, `published for ${publishedFor} s`);
      }
      t.is(cookieKeys.length, 2, 'one cookie key per rotation');
    },
  );
}

test.serial('[pglite] while a server holds DATA_DIR, commands go through its socket', async (t) => {
  const store = await createTestStore('pglite');
  const server = await openTestStorage(store); // role 'server': holds the lock and shares the socket
  t.teardown(async () => {
    await server.close();
    await store.cleanup();
  });

  const added = await runUmbral(['users', 'add', '--email', 'eva@example.com', '--password', 'correct horse battery'], {
    env: store.env,
  });
  t.is(added.code, 0, added.stderr);
  const seen = await server.db
    .selectFrom('users')
    .select('email')
    .where('email', '=', 'eva@example.com')
    .executeTakeFirst();
  t.deepEqual(seen, { email: 'eva@example.com' });

  const migrate = await runUmbral(['migrate'], { env: store.env });
  t.is(migrate.code, 0, migrate.stderr);
  t.regex(migrate.stdout, /running Umbral server holds DATA_DIR/);
});

// The one test that starts the real launcher (bin/umbral.js): the exit code and stderr an operator sees.
// It must be another process anyway: the lock names this test process as the live holder.
test.serial('[pglite] a DATA_DIR locked by another live process is reported without a stack trace', async (t) => {
  const store = await createTestStore('pglite');
  t.teardown(() => store.cleanup());
  // This test process stands in for a server that holds the lock but shares no socket.
  fs.writeFileSync(path.join(store.dataDir, 'umbral.lock'), String(process.pid));

  const result = await spawnUmbral(['users', 'list'], { env: store.env });
  t.is(result.code, 1);
  t.is(result.stdout, '');
  t.regex(result.stderr, new RegExp(`^umbral: .* is in use by another Umbral process \\(pid ${process.pid}\\)`));
  t.false(result.stderr.includes('    at '));
});
