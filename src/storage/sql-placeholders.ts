/**
 * `($1, $2), ($3, $4)`: the placeholders of `rows` tuples of `width` parameters each. The
 * statements of the token path are written out with these once per row count and kept: building
 * them with Kysely's query builder on every call showed in the token endpoint's CPU profile.
 */
export function tuplePlaceholders(rows: number, width: number): string {
  return Array.from({ length: rows }, (_, row) => {
    const first = row * width;
    return `(${Array.from({ length: width }, (_, column) => `$${first + column + 1}`).join(', ')})`;
  }).join(', ');
}

const whereInTexts = new Map<string, string[]>();

/** `${select} ($1, …, $n)`, written out once per select and key count. */
export function selectWhereIn(select: string, keys: number): string {
  let texts = whereInTexts.get(select);
  if (!texts) {
    texts = [];
    whereInTexts.set(select, texts);
  }
  texts[keys] ??= `${select} ${tuplePlaceholders(1, keys)}`;
  return texts[keys];
}

/**
 * `jsonb_build_object('a', t.a, 'b', t.b)`: one row's `columns` as a jsonb object keyed by their
 * names (a read-ahead companion's payload, src/storage/oidc-model-rows.ts), from the same column
 * list its plain select uses, so the two cannot drift apart.
 */
export function jsonbObjectOf(columns: readonly string[], table?: string): string {
  const prefix = table ? `${table}.` : '';
  return `jsonb_build_object(${columns.map((column) => `'${column}', ${prefix}${column}`).join(', ')})`;
}
