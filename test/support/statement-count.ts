import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { currentRequest } from '../../src/http/request-scope.ts';

type Query = (...args: unknown[]) => unknown;

/**
 * Counts the SQL statements that HTTP requests run (pg's Client#query and PGlite#query, as the
 * bench's census does), while `during` runs. Only statements issued while a request is served count
 * (src/http/request-scope.ts), so the audit flush, mail poll and schedulers running beside it
 * do not. Returns the statements' texts in order.
 */
export async function statementsOf(during: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const protos = [pg.Client.prototype, PGlite.prototype] as unknown as Array<{ query: Query }>;
  const originals = protos.map((proto) => proto.query);
  protos.forEach((proto, i) => {
    const original = originals[i]!;
    proto.query = function query(this: unknown, ...args: unknown[]) {
      if (currentRequest()) {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
        seen.push(String(text).replace(/\s+/g, ' ').slice(0, 120));
      }
      return original.apply(this, args);
    };
  });
  try {
    await during();
  } finally {
    protos.forEach((proto, i) => {
      proto.query = originals[i]!;
    });
  }
  return seen;
}

/**
 * Whether a statement writes (its own commit): insert, update, delete, or a `with` whose statements
 * modify data; a `with … select` (a token read with its grant and session) only reads. The bench's
 * census counts writes the same way (scripts/bench/census.ts).
 */
export function isWriteStatement(text: string): boolean {
  const sql = text.trim();
  return /^(insert|update|delete)\b/i.test(sql) || (/^with\b/i.test(sql) && /\b(insert|update|delete)\b/i.test(sql));
}
