import { Problem } from './problem.ts';
import { z } from './zod.ts';

/** `limit` and `cursor` of every list: the cursor is opaque, handed out as `next_cursor`. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'Items per page, 1 to 200.' }),
  cursor: z.string().max(512).optional().openapi({ description: 'The `next_cursor` of the previous page.' }),
};

/** A page of `item`: `next_cursor` is absent on the last page. */
export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      next_cursor: z.string().optional().openapi({ description: 'Absent on the last page.' }),
    })
    .openapi(name);
}

/** A position in a list ordered by (a sortable string, an id): opaque to clients. */
export function encodeCursor(position: [string, string]): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return value as [string, string];
    }
  } catch {
    // falls through to the problem
  }
  throw Problem.field('query', '/cursor', 'cursor is not one this API handed out');
}

/**
 * One page of a list read whole (an organization's members, its invitations: bounded by its seats),
 * ordered by `key`, which must be unique; the cursor is the last key handed out.
 */
export function pageInMemory<T>(
  items: T[],
  key: (item: T) => string,
  query: { limit: number; cursor?: string | undefined },
): { items: T[]; next_cursor?: string } {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor)[1];
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((item) => key(item) > after);
  const page = rest.slice(0, query.limit);
  const last = page.at(-1);
  return rest.length > query.limit && last
    ? { items: page, next_cursor: encodeCursor(['key', key(last)]) }
    : { items: page };
}
