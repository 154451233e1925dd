import { type Kysely, sql } from 'kysely';
import type { Logger } from '../logging/logger.ts';
import type { Storage } from './database.ts';
import type { Database } from './schema.ts';

/**
 * What one node tells the others when it changes something they keep in memory: a client's
 * metadata (changed, added or removed) or the signing keys. Sent with PostgreSQL's NOTIFY, so
 * every node (and every worker) listening on the database hears it once the change commits.
 */
export type ChangeNotice = { client: string } | { keys: true };

export const CHANGES_CHANNEL = 'umbral_changes';

/** Sends `notice` to every node; inside a transaction it goes out at commit, not before. */
export async function notifyChange(db: Kysely<Database>, notice: ChangeNotice): Promise<void> {
  await sql`select pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify(notice)})`.execute(db);
}

function parse(payload: string): ChangeNotice | undefined {
  try {
    const value = JSON.parse(payload) as Record<string, unknown>;
    if (typeof value['client'] === 'string') return { client: value['client'] };
    if (value['keys'] === true) return { keys: true };
  } catch {
    // not one of ours
  }
  return undefined;
}

export interface ChangeHandlers {
  onNotice(notice: ChangeNotice): void;
  /** Notices may have been missed (the listening connection was lost and is back): drop everything cached. */
  onResync(): void;
}

/**
 * Listens for change notices for as long as the storage is open. On PostgreSQL a connection of its
 * own runs LISTEN; when it drops it is opened again (after a second, then up to every 10) and the
 * handlers resync, since notices sent meanwhile are lost. On PGlite (one process) it listens in-process.
 */
export async function listenForChanges(
  storage: Storage,
  logger: Logger,
  handlers: ChangeHandlers,
): Promise<{ stop(): Promise<void> }> {
  const deliver = (payload: string) => {
    const notice = parse(payload);
    if (notice) handlers.onNotice(notice);
  };
  if (storage.listen) return storage.listen(CHANGES_CHANNEL, deliver);
  if (!storage.connectionString) return { stop: async () => {} };
  const { default: pg } = await import('pg');
  const connectionString = storage.connectionString;
  let stopped = false;
  let client: InstanceType<typeof pg.Client> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delayMs = 1000;

  const connect = async (resync: boolean): Promise<void> => {
    const next = new pg.Client({ connectionString, connectionTimeoutMillis: 3000, keepAlive: true });
    next.on('notification', (message) => {
      if (message.channel === CHANGES_CHANNEL && message.payload) deliver(message.payload);
    });
    next.on('error', () => lost(next));
    next.on('end', () => lost(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      next.removeAllListeners('end');
      await next.end().catch(() => {});
      if (!stopped) {
        logger.warn({ err: { message: (error as Error).message }, retryMs: delayMs }, 'change notices: cannot listen');
        schedule();
      }
      return;
    }
    if (stopped) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    delayMs = 1000;
    if (resync) {
      logger.info('change notices: listening again; caches dropped');
      handlers.onResync();
    }
  };
  const schedule = () => {
    clearTimeout(retry);
    retry = setTimeout(() => void connect(true), delayMs);
    retry.unref();
    delayMs = Math.min(delayMs * 2, 10_000);
  };
  const lost = (which: InstanceType<typeof pg.Client>) => {
    if (stopped || client !== which) return;
    client = undefined;
    which.removeAllListeners('end');
    void which.end().catch(() => {});
    logger.warn('change notices: connection lost; listening again soon');
    handlers.onResync(); // until it is back, nothing cached may outlive a change we cannot hear of
    schedule();
  };

  await connect(false);
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const last = client;
      client = undefined;
      if (last) {
        last.removeAllListeners('end');
        await last.end().catch(() => {});
      }
    },
  };
}
