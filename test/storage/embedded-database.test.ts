import test from 'ava';
import { sql } from 'kysely';
import { openStorage } from '../../src/storage/database.ts';
import { createTestStore } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';

test.serial('the embedded database is locked to one process and shared with the CLI over its socket', async (t) => {
  const store = await createTestStore('pglite');
  t.teardown(() => store.cleanup());
  const server = await startUmbral(store);
  t.teardown(() => server.stop());
  await server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });

  const cli = await openStorage({ databaseUrl: undefined, dataDir: store.dataDir, role: 'cli' });
  t.is(cli.kind, 'postgres', 'the CLI goes through the running server');
  const users = await cli.db.selectFrom('users').select('email').execute();
  t.deepEqual(users, [{ email: 'ana@example.com' }]);
  await cli.close();

  const error = await t.throwsAsync(openStorage({ databaseUrl: undefined, dataDir: store.dataDir, role: 'server' }));
  t.regex(error!.message, /in use by another Umbral process/);
});

test.serial('without a running server the CLI opens the files itself, and a stale lock is taken over', async (t) => {
  const store = await createTestStore('pglite');
  t.teardown(() => store.cleanup());
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${store.dataDir}/umbral.lock`, '999999'); // no such process
  const cli = await openStorage({ databaseUrl: undefined, dataDir: store.dataDir, role: 'cli' });
  t.is(cli.kind, 'pglite');
  await cli.close();
});

test.serial('the embedded database keeps a small buffer cache, not PostgreSQL’s default 128 MB', async (t) => {
  const store = await createTestStore('pglite');
  t.teardown(() => store.cleanup());
  const storage = await openStorage({ databaseUrl: undefined, dataDir: store.dataDir, role: 'cli' });
  t.teardown(() => storage.close());
  t.is(storage.kind, 'pglite');
  const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(storage.db);
  t.deepEqual(rows, [{ shared_buffers: '32MB' }]);
  // Still the rest of PGlite's own start parameters: a search path of public.
  const path = await sql<{ search_path: string }>`show search_path`.execute(storage.db);
  t.deepEqual(path.rows, [{ search_path: 'public' }]);
});
