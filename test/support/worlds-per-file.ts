import type { TestFn } from 'ava';

export interface SharedWorld<W> {
  world: W;
  /** Brings the world back to how it started: called before every test that takes it. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Worlds (a server and whatever it talks to) shared by the serial tests of one file: one per set
 * of settings (store kind, environment), started by the first test that asks for it and stopped
 * after the file. Each test gets the world reset, so tests stay as isolated as with a world each,
 * without a store to copy and a server to start per test. Only for test.serial tests.
 */
export function worldsPerFile<S, W>(test: TestFn, start: (settings: S) => Promise<SharedWorld<W>>) {
  const worlds = new Map<string, Promise<SharedWorld<W>>>();
  test.after.always(async () => {
    for (const world of worlds.values()) await (await world.catch(() => undefined))?.close();
  });
  return async (settings: S): Promise<W> => {
    const key = JSON.stringify(settings);
    let world = worlds.get(key);
    if (!world) {
      world = start(settings);
      worlds.set(key, world);
    }
    const shared = await world;
    await shared.reset();
    return shared.world;
  };
}
