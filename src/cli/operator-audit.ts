import { userInfo } from 'node:os';
import type { Kysely } from 'kysely';
import type { AuditActor } from '../audit/audit-event.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import type { CliContext } from './cli-context.ts';
import type { CliIo } from './cli-io.ts';

/** What a CLI command changed, as logged: `event` (e.g. operator.org_added), the command, and ids and counts. */
export interface OperatorChange {
  event: string;
  command: string;
  organizationId?: string;
  userId?: string;
  [field: string]: unknown;
}

/** The operator: the account running the command (USER, or the process's own user). */
export function operatorActor(env: NodeJS.ProcessEnv): AuditActor {
  let id = env['USER'] || env['LOGNAME'];
  if (!id) {
    try {
      id = userInfo().username;
    } catch {
      id = 'unknown';
    }
  }
  return { kind: 'operator', id };
}

/**
 * One change an operator made: the info line on stderr, and the audit event (written at once,
 * before the command exits: the CLI is short-lived, so nothing is buffered). The fields are the
 * log line's own, ids and counts: nothing secret.
 */
export async function recordOperatorChange(
  deps: { db: Kysely<Database>; log: Logger; env: NodeJS.ProcessEnv },
  change: OperatorChange,
  message: string,
): Promise<void> {
  deps.log.info(change, message);
  const { event, command, organizationId, userId, ...summary } = change;
  const audit = new AuditLog({ db: deps.db, logger: deps.log, flushIntervalMs: 0 });
  audit.record({
    type: event,
    actor: operatorActor(deps.env),
    subjectUserId: userId,
    organizationId,
    data: { command, ...summary },
  });
  await audit.close();
}

/** The same, for a command of its own context: the log line goes to the command's stderr. */
export async function recordChangeOf(
  context: CliContext,
  env: NodeJS.ProcessEnv,
  io: CliIo,
  change: OperatorChange,
  message: string,
): Promise<void> {
  const log = createLogger(context.config.logLevel, { write: (line: string) => void io.stderr.write(line) });
  await recordOperatorChange({ db: context.storage.db, log, env }, change, message);
}
