import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import test from 'ava';
import { releaseHeapWhenIdle, startIdleHeapRelease } from '../../src/http/idle-heap-release.ts';

const MB = 1024 * 1024;

/** The release with a hand-driven clock: `tick()` is one check period passing. */
function drivenRelease(heap: { held: number }, minGrowthBytes = 8 * MB) {
  const collections: number[] = [];
  let tick: () => void = () => {};
  let cancelled = false;
  const release = startIdleHeapRelease({
    idleMs: 2000,
    minGrowthBytes,
    memoryHeld: () => heap.held,
    collect: () => {
      collections.push(heap.held);
      heap.held = 30 * MB; // what a collection leaves
    },
    every: (ms, run) => {
      if (ms !== 1000) throw new Error(`checks every ${ms} ms, not half the idle time`);
      tick = run;
      return () => {
        cancelled = true;
      };
    },
  });
  return { release, collections, tick: () => tick(), cancelled: () => cancelled };
}

test('a busy period followed by quiet ones collects after 1, 2 and 8 quiet periods, then waits for requests', (t) => {
  const heap = { held: 30 * MB };
  const { release, collections, tick } = drivenRelease(heap);
  release.noteRequest();
  heap.held = 120 * MB;
  tick(); // requests came: armed
  t.deepEqual(collections, []);
  const collectedAfter: number[] = [];
  for (let quiet = 1; quiet <= 12; quiet++) {
    const before = collections.length;
    tick();
    if (collections.length > before) collectedAfter.push(quiet);
  }
  t.deepEqual(collectedAfter, [1, 2, 8]);
  t.is(collections[0], 120 * MB, 'the first collection found the burst');
  heap.held = 100 * MB; // garbage from timers alone does not start another round
  tick();
  tick();
  t.is(collections.length, 3);
  release.noteRequest();
  tick();
  tick();
  t.is(collections.length, 4, 'a new busy period starts a new round');
});

test('a request during the round starts it over', (t) => {
  const heap = { held: 30 * MB };
  const { release, collections, tick } = drivenRelease(heap);
  heap.held = 120 * MB;
  release.noteRequest();
  tick();
  tick(); // quiet 1: collects
  heap.held = 120 * MB;
  tick(); // quiet 2: collects
  tick();
  tick(); // quiet 4
  release.noteRequest(); // busy again before quiet 8
  heap.held = 120 * MB;
  tick();
  for (let quiet = 1; quiet <= 8; quiet++) tick();
  t.is(collections.length, 5, 'two, then a whole new round of three');
});

test('nothing is collected while requests keep coming, nor when the heap barely grew', (t) => {
  const heap = { held: 30 * MB };
  const { release, collections, tick, cancelled } = drivenRelease(heap);
  for (let period = 0; period < 5; period++) {
    release.noteRequest();
    heap.held += 40 * MB;
    tick();
  }
  t.deepEqual(collections, [], 'busy all along');

  const small = drivenRelease({ held: 30 * MB });
  small.release.noteRequest();
  small.tick();
  small.tick();
  small.tick();
  t.deepEqual(small.collections, [], 'under the growth threshold');
  release.stop();
  t.true(cancelled());
});

test("the default collection is V8's full one, without --expose-gc on the command line", (t) => {
  t.is((globalThis as { gc?: unknown }).gc, undefined, 'this test needs a process without gc exposed');
  let tick: () => void = () => {};
  // The growth gate has its own test; here the process's RSS need not grow (the garbage may fit in
  // pages V8 already holds, and then the round was skipped: seen once as "40 MB → 41 MB").
  let held = 0;
  const release = startIdleHeapRelease({
    idleMs: 2000,
    minGrowthBytes: 1,
    memoryHeld: () => (held += MB),
    every: (_ms, run) => {
      tick = run;
      return () => {};
    },
  });
  // Garbage that only a major collection frees: old enough to have been promoted.
  let garbage: Array<{ n: number; s: string }> | undefined = Array.from({ length: 400_000 }, (_, n) => ({
    n,
    s: `x${n}`,
  }));
  const used = () => v8.getHeapStatistics().used_heap_size;
  const withGarbage = used();
  t.true(garbage.length > 0);
  garbage = undefined;
  release.noteRequest();
  tick();
  tick();
  t.true(used() < withGarbage - 10 * MB, `${Math.round(withGarbage / MB)} MB → ${Math.round(used() / MB)} MB`);
  release.stop();
});

test('releaseHeapWhenIdle counts every request the server receives', async (t) => {
  const counted: string[] = [];
  const server = http.createServer((_request, response) => response.end('ok'));
  releaseHeapWhenIdle(server, { noteRequest: () => counted.push('request'), stop: () => {} });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  for (let i = 0; i < 3; i++) t.is(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok');
  t.is(counted.length, 3);
});
