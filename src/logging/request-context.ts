import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/** What every log line written while serving a request carries (src/logging/logger.ts reads it). */
export interface RequestContext {
  requestId: string;
}

const current = new AsyncLocalStorage<RequestContext>();

/** The request being served by this async chain, if any. */
export function currentRequest(): RequestContext | undefined {
  return current.getStore();
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
    return current.run({ requestId }, next);
  };
}
