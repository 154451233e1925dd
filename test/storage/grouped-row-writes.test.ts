import test, { type ExecutionContext } from 'ava';
import type { CompiledQuery, Kysely } from 'kysely';
import { GroupedRowWrites } from '../../src/storage/grouped-row-writes.ts';
import type { OidcModelRow } from '../../src/storage/oidc-model-rows.ts';
import type { Database } from '../../src/storage/schema.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

/** The database, seen through the one method GroupedRowWrites calls: every statement is counted, and can be held. */
interface CountedDatabase {
  db: Kysely<Database>;
  statements: string[];
  /** While set, statements wait for it before they run. */
  gate?: Promise<void>;
}

async function setup(t: ExecutionContext, kind: (typeof STORES)[number]) {
  const store = await createTestStore(kind);
  t.teardown(() => store.cleanup());
  const storage = await openTestStorage(store);
  t.teardown(() => storage.close());
  const counted: CountedDatabase = { db: storage.db, statements: [] };
  const db = {
    async executeQuery(query: CompiledQuery) {
      counted.statements.push(query.sql);
      await counted.gate;
      return storage.db.executeQuery(query);
    },
  } as unknown as Kysely<Database>;
  return { writes: new GroupedRowWrites(db), counted, storage };
}

const row = (id: string, payload: object | string = { jti: id }): OidcModelRow => ({
  model: 'ClientCredentials',
  id,
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  expires_at: new Date(Date.now() + 600_000),
});

async function storedIds(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('oidc_models').select('id').where('model', '=', 'ClientCredentials').execute();
  return rows.map((r) => r.id).sort();
}

for (const kind of STORES) {
  test(`[${kind}] rows written in the same turn go in one statement, and each write resolves once it is stored`, async (t) => {
    const { writes, counted, storage } = await setup(t, kind);
    const ids = Array.from({ length: 20 }, (_, i) => `token-${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => writes.write(row(id))));
    t.is(counted.statements.length, 1);
    t.deepEqual(await storedIds(storage.db), ids);
  });

  test(`[${kind}] rows arriving while a statement is in flight wait for it and go together in the next`, async (t) => {
    const { writes, counted, storage } = await setup(t, kind);
    let open!: () => void;
    counted.gate = new Promise((resolve) => {
      open = resolve;
    });
    const first = writes.write(row('first'));
    while (counted.statements.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const later = ['a', 'b', 'c', 'd'].map((id) => writes.write(row(id)));
    await new Promise((resolve) => setImmediate(resolve));
    t.is(counted.statements.length, 1, 'nothing else is sent while the first statement runs');
    counted.gate = undefined;
    open();
    await Promise.all([first, ...later]);
    t.is(counted.statements.length, 2);
    t.deepEqual(await storedIds(storage.db), ['a', 'b', 'c', 'd', 'first']);
  });

  test(`[${kind}] the same row twice in one statement: the later write wins, and both resolve`, async (t) => {
    const { writes, counted, storage } = await setup(t, kind);
    await Promise.all([
      writes.write(row('same', { v: 1 })),
      writes.write(row('same', { v: 2 })),
      writes.write(row('other')),
    ]);
    t.is(counted.statements.length, 1);
    const stored = await storage.db
      .selectFrom('oidc_models')
      .select('payload')
      .where('id', '=', 'same')
      .executeTakeFirstOrThrow();
    t.deepEqual(stored.payload, { v: 2 });
  });

  test(`[${kind}] a row the database refuses fails its own write only; the rows beside it are stored`, async (t) => {
    const { writes, storage } = await setup(t, kind);
    const results = await Promise.allSettled([
      writes.write(row('good-1')),
      writes.write(row('bad', '{not json')),
      writes.write(row('good-2')),
    ]);
    t.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    const refused = results[1] as PromiseRejectedResult;
    t.regex(String((refused.reason as Error).message), /json/i);
    t.deepEqual(await storedIds(storage.db), ['good-1', 'good-2']);
  });
}

test('with the database unreachable every write of the statement fails with that error, and the next turn writes again', async (t) => {
  let calls = 0;
  let reachable = false;
  const db = {
    async executeQuery() {
      calls += 1;
      if (!reachable) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return { rows: [] };
    },
  } as unknown as Kysely<Database>;
  const writes = new GroupedRowWrites(db);
  const results = await Promise.allSettled([writes.write(row('x')), writes.write(row('y'))]);
  t.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  t.is(calls, 1, 'not retried row by row: every row would meet the same outage');
  reachable = true;
  await writes.write(row('z'));
  t.is(calls, 2);
});
