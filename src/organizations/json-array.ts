/** A jsonb array of strings, parsed whichever way the driver returned it (PGlite and pg differ). */
export function jsonArray(value: unknown): string[] {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}
