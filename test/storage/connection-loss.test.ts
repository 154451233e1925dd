import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';
import pg from 'pg';
import type { Storage } from '../../src/storage/database.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

// PostgreSQL restarted, a failover, `pg_terminate_backend`: a connection can drop while a request
// holds it. pg reports that as an 'error' event on the checked-out client, and an 'error' event
// nobody listens to would end this test worker as it ends a server. The request fails; the next works.

async function setup(t: ExecutionContext): Promise<{ storage: Storage; admin: pg.Client }> {
  const store = await createTestStore('postgres');
  t.teardown(() => store.cleanup());
  const storage = await openTestStorage(store);
  t.teardown(() => storage.close());
  const admin = new pg.Client({ connectionString: process.env['DATABASE_URL'] });
  await admin.connect();
  t.teardown(() => admin.end());
  return { storage, admin };
}

async function terminate(admin: pg.Client, pid: number): Promise<void> {
  const { rows } = await admin.query<{ done: boolean }>('select pg_terminate_backend($1) as done', [pid]);
  if (!rows[0]?.done) throw new Error(`backend ${pid} was not terminated`);
}

/** Resolves once backend `pid` is running a statement (polled; the statement itself waits for us). */
async function untilActive(admin: pg.Client, pid: number): Promise<void> {
  for (;;) {
    const { rows } = await admin.query<{ state: string }>('select state from pg_stat_activity where pid = $1', [pid]);
    if (rows[0]?.state === 'active') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once backend `pid` has exited (after it told its client why). */
async function untilGone(admin: pg.Client, pid: number): Promise<void> {
  for (;;) {
    const { rowCount } = await admin.query('select 1 from pg_stat_activity where pid = $1', [pid]);
    if (!rowCount) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function nextRequestWorks(t: ExecutionContext, storage: Storage): Promise<void> {
  const { rows } = await sql<{ one: number }>`select 1 as one`.execute(storage.db);
  t.deepEqual(rows, [{ one: 1 }], 'the pool serves the next request on a fresh connection');
}

if (STORES.includes('postgres')) {
  test.serial('[postgres] a connection dropped under a running statement fails that statement only', async (t) => {
    const { storage, admin } = await setup(t);
    const inFlight = storage.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      const pid = rows[0]!.pid;
      const sleeping = sql`select pg_sleep(60)`.execute(trx);
      await untilActive(admin, pid);
      await terminate(admin, pid);
      await sleeping;
    });
    const error = await t.throwsAsync(inFlight);
    t.regex(error!.message, /terminat/i);
    await nextRequestWorks(t, storage);
  });

  test.serial('[postgres] a connection dropped between the statements of a transaction fails it only', async (t) => {
    const { storage, admin } = await setup(t);
    const inFlight = storage.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      // The client is checked out and idle here, as while a request awaits something else.
      await terminate(admin, rows[0]!.pid);
      await untilGone(admin, rows[0]!.pid);
      await sql`select 1`.execute(trx);
    });
    await t.throwsAsync(inFlight);
    await nextRequestWorks(t, storage);
  });
} else {
  test('connection loss is tested on PostgreSQL only (set DATABASE_URL)', (t) => t.pass());
}
