import type { bodyParser as koaBodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';

type BodyParserOptions = Parameters<typeof koaBodyParser>[0];

/**
 * @koa/bodyparser (co-body, qs and friends) loads on the first request that reaches a form or JSON
 * route, not at start: RSS a node serving only tokens never needs. Otherwise the same middleware,
 * built once from the same options.
 */
let library: Promise<typeof import('@koa/bodyparser')> | undefined;
const koaBodyParserLibrary = () => {
  library ??= import('@koa/bodyparser');
  return library;
};

export function bodyParser(options: BodyParserOptions): Middleware {
  let parser: Promise<Middleware> | undefined;
  return async (ctx, next) => {
    parser ??= koaBodyParserLibrary().then((m) => m.bodyParser(options) as Middleware);
    return (await parser)(ctx, next);
  };
}
