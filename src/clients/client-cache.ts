import type { AdapterPayload } from 'oidc-provider';

/** Ids cached at most: client ids sent at will (unknown ones are cached too) must not grow it without end. */
const MAX_ENTRIES = 10_000;

/**
 * Registered clients' metadata in memory: every token request looks its client up, and this spares
 * that query. An entry lives `ttlSeconds` at most; a change is dropped at once, on every node, by
 * `invalidate` (called on each change notice, src/storage/change-notices.ts), so the TTL is only the
 * backstop for a change no one announced. Unknown ids are cached as such, and dropped alike when
 * the client is registered.
 */
export class ClientCache {
  readonly #entries = new Map<string, { metadata: AdapterPayload | undefined; until: number }>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached metadata (`undefined` for a cached unknown id), or `miss`. */
  get(clientId: string): AdapterPayload | undefined | 'miss' {
    const entry = this.#entries.get(clientId);
    if (!entry) return 'miss';
    if (entry.until <= this.now()) {
      this.#entries.delete(clientId);
      return 'miss';
    }
    return entry.metadata;
  }

  set(clientId: string, metadata: AdapterPayload | undefined): void {
    if (this.ttlSeconds <= 0) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(clientId, { metadata, until: this.now() + this.ttlSeconds * 1000 });
  }

  /** Drops one client (changed, added or removed): the next request reads it from the database. */
  invalidate(clientId: string): void {
    this.#entries.delete(clientId);
  }

  /** Drops everything (change notices may have been missed). */
  clear(): void {
    this.#entries.clear();
  }
}

/**
 * Seconds a client stays cached. On PostgreSQL every change is announced (LISTEN/NOTIFY), so the TTL
 * is a backstop only. On PGlite the server hears its own changes in-process but not the CLI's,
 * which reach its database through the socket: those take effect within this TTL.
 */
export function clientCacheSeconds(kind: 'postgres' | 'pglite'): number {
  return kind === 'postgres' ? 300 : 5;
}
