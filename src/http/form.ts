import type { Context } from 'koa';

/** A text field of the parsed form body ('' when missing or not a string). */
export function formField(ctx: Context, name: string): string {
  const value = (ctx.request as { body?: Record<string, unknown> }).body?.[name];
  return typeof value === 'string' ? value : '';
}

/** 303 See Other: what every form POST answers, so a reload never resubmits it. */
export function seeOther(ctx: Context, location: string): void {
  ctx.redirect(location);
  ctx.status = 303;
}
