import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/** What every log line written while serving a request carries (src/logging/logger.ts reads it). */
export interface RequestContext {
  requestId: string;
}

interface Scope {
  /** Unset in a scope opened outside a request (a test, the CLI running a token request's code). */
  requestId?: string;
  readonly slots: Map<symbol, unknown>;
}

/*
 * One AsyncLocalStorage for everything a request carries. On Node 20 every instance in use costs
 * every promise created anywhere a copy of its store (async_hooks' init hook): the request id, the
 * batched writes and the refresh rotation were three instances beside oidc-provider's own, and a
 * refresh request spent four times the bare provider's time copying stores (async_hooks' _propagate).
 */
const current = new AsyncLocalStorage<Scope>();

/** The request being served by this async chain, if any. */
export function currentRequest(): RequestContext | undefined {
  const scope = current.getStore();
  return scope?.requestId ? (scope as RequestContext) : undefined;
}

/**
 * An incoming X-Request-Id is kept only when it looks like an id (a load balancer's, a portal's):
 * 1 to 128 letters, digits and `-_.:`, so nothing a client sends can forge log lines or headers.
 */
export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives each request an id, returned as X-Request-Id and on every log line written while it is served. */
export function requestIds(): Middleware {
  return (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state['requestId'] = requestId;
    ctx.set('X-Request-Id', requestId);
    return current.run({ requestId, slots: new Map() }, next);
  };
}

/**
 * One capability's state for the request being served (src/provider/batched-writes.ts,
 * src/provider/refresh-rotations.ts), kept in the request's scope instead of an AsyncLocalStorage
 * of its own. A slot holds one value per request at a time; `run` is not nested for one slot.
 */
export class RequestSlot<T> {
  readonly #key: symbol;

  constructor(name: string) {
    this.#key = Symbol(name);
  }

  /** The value `run` set for the request being served. */
  get(): T | undefined {
    return current.getStore()?.slots.get(this.#key) as T | undefined;
  }

  /**
   * Runs `work` with this slot set to `value`, and unsets it when `work` settles: what the
   * request left running afterwards no longer sees it. Outside a request, `work` gets a scope of its own.
   */
  async run<R>(value: T, work: () => Promise<R>): Promise<R> {
    const scope = current.getStore();
    if (!scope) return current.run({ slots: new Map([[this.#key, value]]) }, work);
    scope.slots.set(this.#key, value);
    try {
      return await work();
    } finally {
      if (scope.slots.get(this.#key) === value) scope.slots.delete(this.#key);
    }
  }
}
