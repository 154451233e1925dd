import { addCookieKey } from '../provider/cookie-keys.ts';
import { rotateSigningKeys } from '../provider/signing-keys.ts';
import { withCliContext } from './cli-context.ts';
import { CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { recordChangeOf } from './operator-audit.ts';
import { printJson, printNote } from './print.ts';

/** `umbral keys rotate` */
export async function runKeysCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'rotate':
      return rotateKeys(rest, env, io);
    case undefined:
      throw new CliUsageError('"keys" needs a subcommand: rotate');
    default:
      throw new CliUsageError(`unknown command "keys ${action}"`);
  }
}

async function rotateKeys(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  parseOptions('keys rotate', args, {});
  // configuration.ts loads oidc-provider: only worth it once the command line is known to be right.
  const { RETIRED_KEY_PUBLISH_SECONDS } = await import('../provider/configuration.ts');
  await withCliContext(env, async (context) => {
    const result = await rotateSigningKeys(context.storage.db, await context.secretBox(), RETIRED_KEY_PUBLISH_SECONDS);
    await addCookieKey(context.storage.db);
    await recordChangeOf(context, env, io, { event: 'operator.keys_rotated', command: 'keys rotate' }, 'keys rotated');
    printJson(io, result);
  });
  // Running servers hear of the rotation and reload their keys (src/provider/key-reload.ts).
  printNote(
    io,
    'New signing and cookie keys stored. Running servers publish and sign with them at once, or within ' +
      'KEY_RELOAD_INTERVAL_SECONDS (30 s by default) if they missed the notice; no restart is needed. ' +
      `Retired keys stay published for ${Math.round(RETIRED_KEY_PUBLISH_SECONDS / 3600)} hours from now.`,
  );
}
