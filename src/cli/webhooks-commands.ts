import type { AuditEventInput, AuditTrail } from '../audit/audit-event.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { createLogger } from '../logging/logger.ts';
import {
  type ChangedBy,
  type EndpointChanges,
  WebhookEndpoints,
  WebhookInputError,
  WebhookNotFoundError,
} from '../webhooks/webhook-endpoints.ts';
import { type CliContext, withCliContext } from './cli-context.ts';
import { CliInputError, CliUsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { parseOptions } from './command-options.ts';
import { operatorActor } from './operator-audit.ts';
import { printJson, printNote } from './print.ts';

export const WEBHOOK_ADD_OPTIONS = {
  url: { type: 'string', required: true },
  events: { type: 'string', required: true },
  description: { type: 'string' },
  disabled: { type: 'boolean' },
} as const;

export const WEBHOOK_UPDATE_OPTIONS = {
  id: { type: 'string', required: true },
  url: { type: 'string' },
  events: { type: 'string' },
  description: { type: 'string' },
  enable: { type: 'boolean' },
  disable: { type: 'boolean' },
} as const;

export const WEBHOOK_ID_OPTIONS = { id: { type: 'string', required: true } } as const;
export const WEBHOOK_DELIVERIES_OPTIONS = {
  id: { type: 'string', required: true },
  limit: { type: 'string' },
} as const;

/** `umbral webhooks add|list|update|remove|deliveries …`: endpoints that hear Umbral's events. */
export async function runWebhooksCommand(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return addEndpoint(rest, env, io);
    case 'list':
      parseOptions('webhooks list', rest, {});
      return withEndpoints(env, io, async (endpoints) => printJson(io, (await endpoints.list()).endpoints));
    case 'update':
      return updateEndpoint(rest, env, io);
    case 'remove': {
      const { id } = parseOptions('webhooks remove', rest, WEBHOOK_ID_OPTIONS);
      return withEndpoints(env, io, async (endpoints, by) => {
        await endpoints.remove(id, by);
        printJson(io, { removed: id });
      });
    }
    case 'deliveries':
      return showDeliveries(rest, env, io);
    case undefined:
      throw new CliUsageError('"webhooks" needs a subcommand: add, list, update, remove or deliveries');
    default:
      throw new CliUsageError(`unknown command "webhooks ${action}"`);
  }
}

function eventList(value: string): string[] {
  return value.split(',').map((event) => event.trim());
}

async function addEndpoint(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('webhooks add', args, WEBHOOK_ADD_OPTIONS);
  await withEndpoints(env, io, async (endpoints, by) => {
    const { endpoint, secret } = await endpoints.create(
      {
        url: options.url,
        events: eventList(options.events),
        enabled: !options.disabled,
        description: options.description,
      },
      by,
    );
    printNote(io, 'the secret is shown this once: keep it where the receiver verifies signatures');
    printJson(io, { ...endpoint, secret });
  });
}

async function updateEndpoint(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('webhooks update', args, WEBHOOK_UPDATE_OPTIONS);
  if (options.enable && options.disable) throw new CliUsageError('--enable and --disable exclude each other');
  const changes: EndpointChanges = {
    url: options.url,
    events: options.events === undefined ? undefined : eventList(options.events),
    description: options.description,
    enabled: options.enable ? true : options.disable ? false : undefined,
  };
  await withEndpoints(env, io, async (endpoints, by) => printJson(io, await endpoints.update(options.id, changes, by)));
}

async function showDeliveries(args: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<void> {
  const options = parseOptions('webhooks deliveries', args, WEBHOOK_DELIVERIES_OPTIONS);
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw new CliInputError(`--limit must be a whole number from 1 to 500, not "${options.limit}"`);
  await withEndpoints(env, io, async (endpoints) =>
    printJson(io, (await endpoints.deliveries(options.id, { limit })).deliveries),
  );
}

/**
 * Runs `work` with the endpoints service of the server's database, the operator as actor; each
 * change is logged at info on stderr and written to the audit log before the command exits.
 */
async function withEndpoints(
  env: NodeJS.ProcessEnv,
  io: CliIo,
  work: (endpoints: WebhookEndpoints, by: ChangedBy) => Promise<void>,
): Promise<void> {
  await withCliContext(env, async (context) => {
    const audit = operatorAudit(context, io);
    try {
      const endpoints = new WebhookEndpoints({
        db: context.storage.db,
        secretBox: await context.secretBox(),
        audit: audit.trail,
        allowPrivateNetwork: context.config.allowPrivateNetworkFetch,
      });
      await work(endpoints, { actor: operatorActor(env) });
    } catch (error) {
      if (error instanceof WebhookInputError) throw new CliInputError(`--${error.message}`);
      if (error instanceof WebhookNotFoundError) throw new CliInputError(error.message);
      throw error;
    } finally {
      await audit.close();
    }
  });
}

function operatorAudit(context: CliContext, io: CliIo): { trail: AuditTrail; close(): Promise<void> } {
  const log = createLogger(context.config.logLevel, { write: (line: string) => void io.stderr.write(line) });
  const audit = new AuditLog({ db: context.storage.db, logger: log, flushIntervalMs: 0 });
  return {
    trail: {
      record(event: AuditEventInput) {
        log.info({ event: event.type, ...event.data }, 'webhook endpoint changed');
        audit.record(event);
      },
    },
    close: () => audit.close(),
  };
}
