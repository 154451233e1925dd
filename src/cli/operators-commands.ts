import { OperatorDirectory, OperatorInputError } from '../admin-console/operators.ts';
import { withCliContext } from './cli-context.ts';
import { CliUsageError, rejectingAsInput } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { operatorActor, recordChangeOf } from './operator-audit.ts';
import { printJson } from './print.ts';

export const OPERATOR_EMAIL_OPTIONS = { email: { type: 'string', required: true } } as const;

/** `umbral operators add|list|remove …`: who may sign in to the operator console at /admin. */
export async function runOperatorsCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addOperator(rest, env, io);
    case 'list':
      return listOperators(rest, env, io);
    case 'remove':
      return removeOperator(rest, env, io);
    case undefined:
      throw new CliUsageError('"operators" needs a subcommand: add, list or remove');
    default:
      throw new CliUsageError(`unknown command "operators ${action}"`);
  }
}

async function addOperator(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('operators add', args, OPERATOR_EMAIL_OPTIONS);
  await withCliContext(env, async (context) => {
    const operator = await rejectingAsInput(OperatorInputError, () =>
      new OperatorDirectory(context.storage.db).add(options.email, operatorActor(env).id ?? 'unknown'),
    );
    await recordChangeOf(
      context,
      env,
      io,
      { event: 'operator.operator_added', command: 'operators add', userId: operator.userId },
      'operator added',
    );
    printJson(io, operator);
  });
}

async function listOperators(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  parseOptions('operators list', args, {});
  await withCliContext(env, async (context) => printJson(io, await new OperatorDirectory(context.storage.db).list()));
}

async function removeOperator(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('operators remove', args, OPERATOR_EMAIL_OPTIONS);
  await withCliContext(env, async (context) => {
    const removed = await rejectingAsInput(OperatorInputError, () =>
      new OperatorDirectory(context.storage.db).remove(options.email),
    );
    await recordChangeOf(
      context,
      env,
      io,
      { event: 'operator.operator_removed', command: 'operators remove', userId: removed.userId },
      'operator removed',
    );
    printJson(io, { removed: removed.email });
  });
}
