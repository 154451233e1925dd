import { CliInputError, CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { HELP_POINTER, USAGE } from './usage.ts';

type CommandGroup = (args: string[], env: NodeJS.ProcessEnv, io: CliIo) => Promise<void>;

/** Loaded on demand: help and command-line mistakes should not wait for argon2, PGlite or oidc-provider. */
const COMMANDS: Record<string, () => Promise<CommandGroup>> = {
  clients: async () => (await import('./clients-commands.ts')).runClientsCommand,
  users: async () => (await import('./users-commands.ts')).runUsersCommand,
  keys: async () => (await import('./keys-commands.ts')).runKeysCommand,
  domains: async () => (await import('./domains-commands.ts')).runDomainsCommand,
  orgs: async () => (await import('./orgs-commands.ts')).runOrgsCommand,
  roles: async () => (await import('./roles-commands.ts')).runRolesCommand,
  webhooks: async () => (await import('./webhooks-commands.ts')).runWebhooksCommand,
  migrate: async () => (await import('./migrate-command.ts')).runMigrateCommand,
  operators: async () => (await import('./operators-commands.ts')).runOperatorsCommand,
};

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/**
 * `umbral …`: runs one command and returns the exit code. Talks only to `env` and `io`, never to
 * the process's own, so tests can run commands in their process (src/cli/main.ts is the launcher).
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || wantsHelp(argv)) {
    io.stdout.write(USAGE);
    return EXIT_OK;
  }
  try {
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) throw new CliUsageError(`unknown command "${command}"`);
    await (await load())(args, env, io);
    return EXIT_OK;
  } catch (error) {
    return report(error, env, io);
  }
}

/** `--help` or `-h` anywhere before a `--` terminator. */
function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** Commands turn the errors an operator can cause (bad environment, rejected value) into Cli*Errors. */
function report(error: unknown, env: NodeJS.ProcessEnv, io: CliIo): number {
  if (error instanceof CliUsageError) {
    io.stderr.write(`umbral: ${error.message}\n${HELP_POINTER}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof CliInputError) {
    io.stderr.write(`umbral: ${error.message}\n`);
    return EXIT_FAILED;
  }
  // Unexpected (database unreachable, DATA_DIR locked…): the message is what helps; the stack only when debugging.
  const message = error instanceof Error ? error.message : String(error);
  const debugging = env['LOG_LEVEL'] === 'debug' || env['LOG_LEVEL'] === 'trace';
  io.stderr.write(
    `umbral: ${message}\n${debugging && error instanceof Error && error.stack ? `${error.stack}\n` : ''}`,
  );
  return EXIT_FAILED;
}
