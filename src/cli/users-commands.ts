import { adminUserOf } from '../users/admin-user.ts';
import { UserRepository } from '../users/users.ts';
import { withCliContext } from './cli-context.ts';
import { CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { withUserAdministration } from './cli-user-administration.ts';
import { parseOptions } from './command-options.ts';
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

export const USER_SEARCH_OPTIONS = {
  query: { type: 'string' },
  disabled: { type: 'boolean' },
  enabled: { type: 'boolean' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
} as const;

export const USER_UPDATE_OPTIONS = {
  email: { type: 'string', required: true },
  name: { type: 'string' },
  'new-email': { type: 'string' },
  'email-verified': { type: 'boolean' },
  phone: { type: 'string' },
  'no-phone': { type: 'boolean' },
} as const;

export const USER_EMAIL_OPTION = { email: { type: 'string', required: true } } as const;

const SUBCOMMANDS =
  'add, list, search, show, update, disable, enable, remove, sessions, reset-mfa or send-password-reset';

/** `umbral users …`: every change goes through src/users/user-administration.ts, as the Admin API's. */
export async function runUsersCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addUser(rest, env, io);
    case 'list':
      return listUsers(rest, env, io);
    case 'search':
      return searchUsers(rest, env, io);
    case 'show':
      return showUser(rest, env, io);
    case 'update':
      return updateUser(rest, env, io);
    case 'disable':
    case 'enable':
    case 'remove':
    case 'sessions':
    case 'reset-mfa':
    case 'send-password-reset':
      return (await import('./users-account-commands.ts')).runUserAccountCommand(action, rest, env, io);
    case undefined:
      throw new CliUsageError(`"users" needs a subcommand: ${SUBCOMMANDS}`);
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
  await withUserAdministration(env, io, async ({ users, origin }) => {
    const user = await users.create(
      {
        email: options.email,
        password,
        name: options.name,
        phone: options.phone,
        emailVerified: options.verified,
      },
      origin,
    );
    printJson(io, user);
  });
}

async function listUsers(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  parseOptions('users list', args, {});
  await withCliContext(env, async (context) => {
    printJson(io, (await new UserRepository(context.storage.db).list()).map(adminUserOf));
  });
}

async function searchUsers(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('users search', args, USER_SEARCH_OPTIONS);
  if (options.disabled && options.enabled) throw new CliUsageError('give either --disabled or --enabled, not both');
  const limit = options.limit === undefined ? undefined : /^\d+$/.test(options.limit) ? Number(options.limit) : NaN;
  await withUserAdministration(env, io, async ({ users }) => {
    const page = await users.search({
      query: options.query,
      disabled: options.disabled ? true : options.enabled ? false : undefined,
      limit,
      cursor: options.cursor,
    });
    printJson(io, { users: page.users, next_cursor: page.nextCursor ?? null });
  });
}

async function showUser(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('users show', args, USER_EMAIL_OPTION);
  await withUserAdministration(env, io, async ({ users }) => {
    printJson(io, await users.show({ email: options.email }));
  });
}

async function updateUser(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('users update', args, USER_UPDATE_OPTIONS);
  if (options.phone !== undefined && options['no-phone']) {
    throw new CliUsageError('give either --phone or --no-phone, not both');
  }
  const changes = {
    name: options.name,
    email: options['new-email'],
    emailVerified: options['email-verified'] || undefined,
    phone: options['no-phone'] ? null : options.phone,
  };
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new CliUsageError(
      '"users update" needs something to change: --name, --new-email, --email-verified, --phone or --no-phone',
    );
  }
  await withUserAdministration(env, io, async ({ users, origin }) => {
    printJson(io, await users.update({ email: options.email }, changes, origin));
  });
}
