import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../storage/schema.ts';
import { Problem } from './problem.ts';

/** How long a key and its answer are kept: a client retries within minutes, 24 hours is generous. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const KEY = /^[\x21-\x7e]{1,255}$/;

export interface StoredAnswer {
  status: number;
  body: unknown;
  /** The answer's ETag and Location, answered again with it. */
  etag?: string | undefined;
  location?: string | undefined;
}

/**
 * `Idempotency-Key` on POSTs (draft-ietf-httpapi-idempotency-key-header): the first request with a
 * key claims it (one insert: of two racing requests, one wins and the other is told to retry),
 * its answer is stored with it, and the same key with the same request gets that answer again,
 * status and body, without running again. The same key with another request is a 422 problem.
 * Answers of 5xx are not kept: the request may be retried with the same key. Answers are sealed
 * at rest: a new client's secret, shown once, must not sit in the database in clear.
 */
export class IdempotencyKeys {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
    private readonly now: () => number,
  ) {}

  static checkKey(value: string): string {
    if (!KEY.test(value)) {
      throw Problem.field('header', '/Idempotency-Key', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    return value;
  }

  static requestHash(method: string, path: string, body: unknown): string {
    return createHash('sha256')
      .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
      .digest('base64url');
  }

  /** Claims the key for this request, or returns the answer stored for it. */
  async begin(caller: string, key: string, requestHash: string): Promise<StoredAnswer | undefined> {
    const now = new Date(this.now());
    await this.db.deleteFrom('admin_idempotency_keys').where('expires_at', '<=', now).execute();
    const claimed = await this.db
      .insertInto('admin_idempotency_keys')
      .values({
        caller,
        key,
        request_hash: requestHash,
        status: null,
        response: null,
        created_at: now,
        expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
      })
      .onConflict((oc) => oc.columns(['caller', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (claimed) return undefined;
    const stored = await this.db
      .selectFrom('admin_idempotency_keys')
      .select(['request_hash', 'status', 'response'])
      .where('caller', '=', caller)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!stored) return this.begin(caller, key, requestHash); // expired and purged in between
    if (stored.request_hash !== requestHash) {
      throw new Problem(
        'idempotency_key_reused',
        'this Idempotency-Key was first sent with another method, path or body; use a new key for a new request',
      );
    }
    if (stored.status === null) {
      throw new Problem('idempotency_in_progress', 'the first request with this Idempotency-Key is still running', {
        headers: { 'Retry-After': '1' },
      });
    }
    const sealed = stored.response === null ? {} : JSON.parse(this.box.open(stored.response, sealContext(caller, key)));
    return { status: stored.status, ...(sealed as Omit<StoredAnswer, 'status'>) };
  }

  async finish(caller: string, key: string, answer: StoredAnswer): Promise<void> {
    if (answer.status >= 500) return this.abandon(caller, key);
    await this.db
      .updateTable('admin_idempotency_keys')
      .set({
        status: answer.status,
        response: this.box.seal(
          JSON.stringify({ body: answer.body ?? null, etag: answer.etag, location: answer.location }),
          sealContext(caller, key),
        ),
      })
      .where('caller', '=', caller)
      .where('key', '=', key)
      .execute();
  }

  async abandon(caller: string, key: string): Promise<void> {
    await this.db
      .deleteFrom('admin_idempotency_keys')
      .where('caller', '=', caller)
      .where('key', '=', key)
      .where('status', 'is', null)
      .execute();
  }
}

const sealContext = (caller: string, key: string) => `admin_idempotency:${caller}:${key}`;
