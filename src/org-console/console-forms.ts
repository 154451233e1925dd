import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import { bodyParser } from '../http/body-parser.ts';
import { csrfProtection, expiredFormPage } from '../http/csrf.ts';
import type { PageRenderer } from '../http/page-renderer.ts';

/** The console's path; every page and form is under it. */
export const ORG_CONSOLE_PATH = '/org';

/** A CSV of up to 500 addresses is far below this; more is refused before it is read whole. */
const MAX_MULTIPART_BYTES = 512 * 1024;

/** A file sent with a multipart form: its name and its text. */
export interface UploadedFile {
  name: string;
  text: string;
}

export function uploadOf(ctx: Context, field: string): UploadedFile | undefined {
  return (ctx.state['uploads'] as Record<string, UploadedFile> | undefined)?.[field];
}

/**
 * Body parsing and CSRF protection for everything under /org, in front of every console router.
 * Forms are urlencoded, except the CSV upload, which is multipart/form-data (a file input needs
 * it, with no JavaScript): that body is read up to 512 KiB and parsed by the platform's own
 * multipart parser (the Fetch API's Response.formData), its text fields becoming the body as an
 * urlencoded form's would, so the CSRF check reads `_csrf` alike. A stale form ends on the
 * form-expired page with a way back to its page.
 */
export function consoleForms(options: { issuer: string; secure: boolean; pages: PageRenderer }): Middleware {
  const guard = compose([
    expiredFormPage(options.pages, (ctx) => `${ctx.path}${ctx.search}`),
    multipartBody(),
    bodyParser({ enableTypes: ['form'], formLimit: '64kb' }),
    csrfProtection(options),
  ]);
  return (ctx, next) =>
    ctx.path === ORG_CONSOLE_PATH || ctx.path.startsWith(`${ORG_CONSOLE_PATH}/`) ? guard(ctx, next) : next();
}

function multipartBody(): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !ctx.is('multipart/form-data')) return next();
    const length = Number(ctx.get('content-length') || 0);
    if (length > MAX_MULTIPART_BYTES) ctx.throw(413, 'upload too large');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > MAX_MULTIPART_BYTES) ctx.throw(413, 'upload too large');
      chunks.push(chunk as Buffer);
    }
    const form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': ctx.get('content-type') } })
      .formData()
      .catch(() => undefined);
    if (!form) return ctx.throw(400, 'malformed multipart body');
    const fields: Record<string, string> = {};
    const uploads: Record<string, UploadedFile> = {};
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') fields[name] = value;
      else if (value.size > 0) uploads[name] = { name: value.name, text: await value.text() };
    }
    (ctx.request as { body?: unknown }).body = fields;
    ctx.state['uploads'] = uploads;
    await next();
  };
}
