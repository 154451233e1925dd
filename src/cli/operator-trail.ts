import type { AuditActor, AuditEventInput, AuditTrail } from '../audit/audit-event.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { createLogger } from '../logging/logger.ts';
import type { CliContext } from './cli-context.ts';
import type { CliIo } from './cli-io.ts';
import { operatorActor } from './operator-audit.ts';

/**
 * An audit trail for a command that changes things through a service layer (src/clients/client-service.ts):
 * each event is logged on stderr and written at once (the CLI is short-lived, so nothing is
 * buffered), before the command exits. The actor is the operator running it.
 */
export async function withOperatorTrail<T>(
  context: CliContext,
  env: NodeJS.ProcessEnv,
  io: CliIo,
  work: (trail: AuditTrail, actor: AuditActor) => Promise<T>,
): Promise<T> {
  const log = createLogger(context.config.logLevel, { write: (line: string) => void io.stderr.write(line) });
  const audit = new AuditLog({ db: context.storage.db, logger: log, flushIntervalMs: 0 });
  const trail: AuditTrail = {
    record(event: AuditEventInput) {
      log.info({ event: event.type, ...event.data }, event.type);
      audit.record(event);
    },
  };
  try {
    return await work(trail, operatorActor(env));
  } finally {
    await audit.close();
  }
}
