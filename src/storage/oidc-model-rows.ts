import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import type { Database, OidcModelTable } from './schema.ts';
import { tuplePlaceholders } from './sql-placeholders.ts';

/** The key of one (model, id) row in the maps that hold rows or writes by row. */
export const modelRowKey = (model: string, id: string) => `${model}\u0000${id}`;

/** An oidc_models row as the adapter reads it (adapters/model-lookups.ts). */
export interface FoundRow {
  model: string;
  id: string;
  uid: string | null;
  payload: unknown;
  consumed_at: Date | null;
}

/**
 * Rows of another table read in the same statement as a token (adapters/model-lookups.ts),
 * because the request reads them right after it: a refresh, a code exchange and userinfo all read
 * the token's account next. They wait in the request's read-ahead as `model` rows keyed by `id`.
 */
export interface ReadAheadCompanion {
  /** The `model` its rows carry in the read-ahead (no oidc-provider model has it). */
  model: string;
  /** The token payload's field that names a row (its `id`): `accountId`, `grantId`. */
  tokenField: string;
  /**
   * A select of `model, id, uid, payload, consumed_at` (text, text, text, jsonb, timestamptz) of
   * the rows whose key is in `keys`, a subquery of the tokens' `tokenField` values.
   */
  select(keys: string): string;
}

/** Takes a companion's row that the request being served read ahead with its token, if any (each once). */
export type ReadAheadTaker = (model: string, id: string) => { payload: unknown } | undefined;

/** One row of oidc-provider's models (src/storage/schema.ts `oidc_models`), as written. */
export type OidcModelRow = Insertable<OidcModelTable>;

const COLUMNS = 'model, id, payload, grant_id, user_code, uid, account_id, expires_at';
const ON_CONFLICT = `on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
    user_code = excluded.user_code, uid = excluded.uid, account_id = excluded.account_id, expires_at = excluded.expires_at`;
const PARAMETERS_PER_ROW = 8;

/* Written out once per row count (src/storage/sql-placeholders.ts). */
const upsertTexts: string[] = [];
function upsertText(rows: number): string {
  upsertTexts[rows] ??=
    `insert into oidc_models (${COLUMNS}) values ${tuplePlaceholders(rows, PARAMETERS_PER_ROW)} ${ON_CONFLICT}`;
  return upsertTexts[rows];
}

function parametersOf(row: OidcModelRow): unknown[] {
  return [
    row.model,
    row.id,
    row.payload,
    row.grant_id ?? null,
    row.user_code ?? null,
    row.uid ?? null,
    row.account_id ?? null,
    row.expires_at ?? null,
  ];
}

/** Writes one model row, replacing the row of the same model and id. */
export async function writeModelRow(db: Kysely<Database>, row: OidcModelRow): Promise<void> {
  await db.executeQuery(CompiledQuery.raw(upsertText(1), parametersOf(row)));
}

/**
 * Writes several model rows in one statement, each replacing the row of its model and id. The
 * (model, id) pairs must differ: PostgreSQL refuses to update one row twice in one statement.
 */
export async function writeModelRows(db: Kysely<Database>, rows: readonly OidcModelRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.executeQuery(CompiledQuery.raw(upsertText(rows.length), rows.flatMap(parametersOf)));
}
