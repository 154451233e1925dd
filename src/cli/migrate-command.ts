import { withCliContext } from './cli-context.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';

/** `umbral migrate`: opening the CLI context applies pending migrations; this reports them. */
export async function runMigrateCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  parseOptions('migrate', args, {});
  const { applied, viaRunningServer } = await withCliContext(env, async (context) => ({
    applied: context.appliedMigrations,
    viaRunningServer: context.viaRunningServer,
  }));
  if (viaRunningServer) {
    io.stdout.write(
      'A running Umbral server holds DATA_DIR and applied its migrations when it started; restart it to apply newer ones.\n',
    );
    return;
  }
  if (applied.length === 0) io.stdout.write('No pending migrations: the database is up to date.\n');
  for (const name of applied) io.stdout.write(`Applied migration ${name}\n`);
}
