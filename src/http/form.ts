import type { Context } from 'koa';
import { z } from 'zod';

/**
 * Form bodies are parsed by a schema into typed values, never read with casts. Browsers send
 * strings (or nothing, for an unticked checkbox); anything else (a repeated field, a missing one)
 * reads as the empty string, so a tampered form meets the same checks as an empty one.
 */
export const formFields = {
  /** A text field: '' when missing, repeated or not a string. */
  text: () => z.preprocess((value) => (typeof value === 'string' ? value : ''), z.string()),
  /** A text field with spaces around it dropped. */
  trimmed: () => z.preprocess((value) => (typeof value === 'string' ? value.trim() : ''), z.string()),
  /** A checkbox: ticked when sent at all. */
  checkbox: () => z.preprocess((value) => value !== undefined && value !== '', z.boolean()),
};

export type FormParse<T> = { ok: true; value: T } | { ok: false; fieldErrors: Record<string, string> };

/** The body parsed by `schema`; where it does not fit, the first message of each field. */
export function parseForm<Schema extends z.ZodType>(ctx: Context, schema: Schema): FormParse<z.output<Schema>> {
  const body = (ctx.request as { body?: unknown }).body;
  const parsed = schema.safeParse(body && typeof body === 'object' ? body : {});
  if (parsed.success) return { ok: true, value: parsed.data };
  const fieldErrors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    fieldErrors[field] ??= issue.message;
  }
  return { ok: false, fieldErrors };
}

/** Parses a form whose schema cannot fail (text fields and checkboxes only). */
export function readForm<Schema extends z.ZodType>(ctx: Context, schema: Schema): z.output<Schema> {
  const parsed = parseForm(ctx, schema);
  if (!parsed.ok) throw new Error(`form schema refused a body: ${Object.keys(parsed.fieldErrors).join(', ')}`);
  return parsed.value;
}

/** 303 See Other: what every form POST answers, so a reload never resubmits it. */
export function seeOther(ctx: Context, location: string): void {
  ctx.redirect(location);
  ctx.status = 303;
}

/** JSON for Umbral's own scripts (WebAuthn options): never cached. */
export function sendJson(ctx: Context, body: unknown): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json';
  ctx.body = body;
}
