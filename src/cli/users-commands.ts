import { translator } from '../i18n/i18n.ts';
import type { UserRow } from '../storage/schema.ts';
import { checkPassword } from '../users/password-policy.ts';
import { UserInputError, UserRepository } from '../users/users.ts';
import { withCliContext } from './cli-context.ts';
import { CliInputError, CliUsageError, rejectingAsInput } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { recordChangeOf } from './operator-audit.ts';
import { printJson } from './print.ts';
import { readPasswordLine } from './read-password.ts';

export const USER_ADD_OPTIONS = {
  email: { type: 'string', required: true },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  name: { type: 'string' },
  phone: { type: 'string' },
  verified: { type: 'boolean' },
} as const;

/** `umbral users add|list|reset-mfa …` */
export async function runUsersCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addUser(rest, env, io);
    case 'list':
      return listUsers(rest, env, io);
    case 'reset-mfa':
      return (await import('./mfa-commands.ts')).resetMfa(rest, env, io);
    case undefined:
      throw new CliUsageError('"users" needs a subcommand: add, list or reset-mfa');
    default:
      throw new CliUsageError(`unknown command "users ${action}"`);
  }
}

async function addUser(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('users add', args, USER_ADD_OPTIONS);
  if (options.password !== undefined && options['password-stdin']) {
    throw new CliUsageError('give either --password or --password-stdin, not both');
  }
  if (options.password === undefined && !options['password-stdin']) {
    throw new CliUsageError('"users add" needs --password or --password-stdin');
  }
  // Read before opening the database, so a slow typist does not hold the DATA_DIR lock.
  const password = options.password ?? (await readPasswordLine(io));
  await withCliContext(env, async (context) => {
    // The same policy as every other way of choosing a password, stated in English.
    const verdict = checkPassword(password, {
      email: options.email,
      minLength: context.config.minPasswordLength,
      productName: context.config.productName,
    });
    if (!verdict.ok) throw new CliInputError(translator('en')(verdict.messageKey, verdict.vars));
    const users = new UserRepository(context.storage.db);
    const user = await rejectingAsInput(UserInputError, () =>
      users.create({
        email: options.email,
        password,
        name: options.name,
        phone: options.phone,
        emailVerified: options.verified,
      }),
    );
    await recordChangeOf(
      context,
      env,
      io,
      { event: 'operator.user_added', command: 'users add', userId: user.id, verified: user.email_verified },
      'user added',
    );
    printJson(io, visibleUser(user));
  });
}

async function listUsers(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  parseOptions('users list', args, {});
  await withCliContext(env, async (context) => {
    printJson(io, (await new UserRepository(context.storage.db).list()).map(visibleUser));
  });
}

/** A user as the CLI shows it: never the password hash, only whether there is one. */
function visibleUser(user: UserRow): Record<string, unknown> {
  const { password_hash, ...visible } = user;
  return { ...visible, has_password: password_hash !== null };
}
