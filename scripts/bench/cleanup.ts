/**
 * Clean-up actions (kill servers, drop databases, remove temporary folders) run in reverse
 * order of registration: at the end of the bench, on failure, and on SIGINT/SIGTERM.
 */
type Action = { name: string; run: () => Promise<void> | void };

const actions: Action[] = [];
let running: Promise<void> | undefined;

/** Registers `run`; returns a function that runs it now (once) and forgets it. */
export function onCleanup(name: string, run: () => Promise<void> | void): () => Promise<void> {
  const action: Action = { name, run };
  actions.push(action);
  return async () => {
    const index = actions.indexOf(action);
    if (index === -1) return;
    actions.splice(index, 1);
    await run();
  };
}

async function withTimeout(promise: Promise<void> | void, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve(promise),
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs every registered action, newest first; failures are reported, never thrown. */
export function runCleanup(): Promise<void> {
  running ??= (async () => {
    while (actions.length) {
      const action = actions.pop()!;
      try {
        await withTimeout(action.run(), 20_000);
      } catch (error) {
        process.stderr.write(
          `bench: clean-up "${action.name}" failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      }
    }
  })();
  return running;
}

export function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up…\n`);
      void runCleanup().finally(() => process.exit(130));
    });
  }
}
