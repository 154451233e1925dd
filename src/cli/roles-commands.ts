import { parsePermission, parseRoleName, type Role } from '../organizations/roles.ts';
import { CliInputError, CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { parsed, table, withOrgs } from './orgs-support.ts';
import { printJson } from './print.ts';

export const ROLE_ADD_OPTIONS = {
  name: { type: 'string', required: true },
  permission: { type: 'string', multiple: true },
  description: { type: 'string' },
} as const;

export const ROLE_LIST_OPTIONS = { json: { type: 'boolean' } } as const;
export const ROLE_REMOVE_OPTIONS = { name: { type: 'string', required: true } } as const;

const MAX_DESCRIPTION_LENGTH = 200;

/** `umbral roles add|list|remove …`: the role templates every organization uses. */
export async function runRolesCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addRole(rest, env, io);
    case 'list':
      return listRoles(rest, env, io);
    case 'remove':
      return removeRole(rest, env, io);
    case undefined:
      throw new CliUsageError('"roles" needs a subcommand: add, list or remove');
    default:
      throw new CliUsageError(`unknown command "roles ${action}"`);
  }
}

async function addRole(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('roles add', args, ROLE_ADD_OPTIONS);
  const name = parsed(() => parseRoleName(options.name));
  const permissions = options.permission.map((p) => parsed(() => parsePermission(p)));
  const description = options.description?.trim();
  if (description !== undefined && description.length > MAX_DESCRIPTION_LENGTH) {
    throw new CliInputError(`--description has at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  await withOrgs(env, io, async (c) => {
    const role = await c.roles.add({ name, permissions, description });
    await c.changed({ event: 'operator.role_added', command: 'roles add', role: role.name }, 'role added');
    printJson(io, visibleRole(role));
  });
}

async function listRoles(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('roles list', args, ROLE_LIST_OPTIONS);
  await withOrgs(env, io, async (c) => {
    const roles = await c.roles.list();
    if (options.json) printJson(io, roles.map(visibleRole));
    else {
      io.stdout.write(
        table([
          ['NAME', 'BUILT IN', 'PERMISSIONS', 'DESCRIPTION'],
          ...roles.map((r) => [r.name, r.builtIn ? 'yes' : 'no', r.permissions.join(',') || '—', r.description ?? '']),
        ]),
      );
    }
  });
}

async function removeRole(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('roles remove', args, ROLE_REMOVE_OPTIONS);
  const name = parsed(() => parseRoleName(options.name));
  await withOrgs(env, io, async (c) => {
    await c.roles.remove(name);
    await c.changed({ event: 'operator.role_removed', command: 'roles remove', role: name }, 'role removed');
    printJson(io, { removed: name });
  });
}

function visibleRole(role: Role) {
  return { name: role.name, description: role.description, permissions: role.permissions, built_in: role.builtIn };
}
