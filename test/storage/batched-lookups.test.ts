import test from 'ava';
import { BatchedLookups } from '../../src/storage/batched-lookups.ts';

interface Row {
  id: string;
  seen: string[];
}

/** A table of rows `a`…`e`, read through `fetch`, which records each statement's keys and can be held. */
function table() {
  const statements: string[][] = [];
  let gate: Promise<void> | undefined;
  const lookups = new BatchedLookups<string, Row>({
    keyOf: (id) => id,
    async fetch(ids) {
      statements.push([...ids]);
      await gate;
      if (ids.includes('boom')) throw new Error('the statement failed');
      return new Map(ids.filter((id) => 'abcde'.includes(id)).map((id) => [id, { id, seen: [] }]));
    },
  });
  return {
    lookups,
    statements,
    hold() {
      let open!: () => void;
      gate = new Promise((resolve) => {
        open = resolve;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

test('lookups asked in one turn are read by one statement; each caller gets its row, or undefined', async (t) => {
  const { lookups, statements } = table();
  const [a, b, missing, c] = await Promise.all(['a', 'b', 'zz', 'c'].map((id) => lookups.find(id)));
  t.deepEqual(statements, [['a', 'b', 'zz', 'c']]);
  t.is(a?.id, 'a');
  t.is(b?.id, 'b');
  t.is(c?.id, 'c');
  t.is(missing, undefined);
});

test('a key asked twice is read once, and each caller gets a copy of its own', async (t) => {
  const { lookups, statements } = table();
  const [first, second] = await Promise.all([lookups.find('a'), lookups.find('a')]);
  t.deepEqual(statements, [['a']]);
  t.deepEqual(first, second);
  first?.seen.push('changed by the first caller');
  t.deepEqual(second?.seen, []);
});

test('keys asked while a statement is in flight wait for it, then go together in the next one', async (t) => {
  const { lookups, statements, hold } = table();
  const release = hold();
  const first = lookups.find('a');
  while (statements.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const later = Promise.all(['b', 'c', 'd'].map((id) => lookups.find(id)));
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(statements, [['a']], 'nothing else is sent while the first statement runs');
  release();
  t.is((await first)?.id, 'a');
  t.deepEqual(
    (await later).map((row) => row?.id),
    ['b', 'c', 'd'],
  );
  t.deepEqual(statements, [['a'], ['b', 'c', 'd']]);
});

test('a failed statement rejects its callers with its error; the next lookups are read again', async (t) => {
  const { lookups, statements } = table();
  const results = await Promise.allSettled([lookups.find('a'), lookups.find('boom')]);
  t.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  t.is(((results[0] as PromiseRejectedResult).reason as Error).message, 'the statement failed');
  t.is((await lookups.find('e'))?.id, 'e');
  t.is(statements.length, 2);
});
