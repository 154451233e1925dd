import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Config } from '../../src/config/config.ts';
import { createMailer, type MailerOptions, type QueuedMailer } from '../../src/notify/create-mailer.ts';
import type { Storage } from '../../src/storage/database.ts';
import type { MailQueueRow } from '../../src/storage/schema.ts';
import { openTestStorage, type TestStore, testConfig } from '../support/stores.ts';

export const ISSUER = 'https://id.example.com';

export interface MailerFixture {
  config: Config;
  storage: Storage;
  mailer: QueuedMailer;
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown>>;
  rows(): Promise<MailQueueRow[]>;
  close(): Promise<void>;
}

/** A mailer on a test store, as the server would create it, with its logs captured. */
export async function openMailer(
  store: TestStore,
  env: Record<string, string>,
  options: Partial<Pick<MailerOptions, 'retryDelaysMs' | 'pollIntervalMs' | 'viewsDir' | 'transport'>> = {},
): Promise<MailerFixture> {
  const config = testConfig(store, { ISSUER, PRODUCT_NAME: 'Acme ID', ...env });
  const storage = await openTestStorage(store);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  let closing: Promise<void> | undefined;
  const mailer = createMailer({ config, db: storage.db, logger, pollIntervalMs: 50, ...options });
  return {
    config,
    storage,
    mailer,
    logs,
    rows: () => storage.db.selectFrom('mail_queue').selectAll().orderBy('created_at').execute(),
    /** Idempotent: a test may close early (to reopen the store) and still register it as a teardown. */
    close() {
      closing ??= mailer.stop().then(() => storage.close());
      return closing;
    },
  };
}
