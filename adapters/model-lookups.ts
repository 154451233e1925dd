import { CompiledQuery, type Kysely } from 'kysely';
import { BatchedLookups } from '../src/storage/batched-lookups.ts';
import { type FoundRow, modelRowKey } from '../src/storage/oidc-model-rows.ts';
import type { Database } from '../src/storage/schema.ts';
import { tuplePlaceholders } from '../src/storage/sql-placeholders.ts';

interface ModelKey {
  model: string;
  value: string;
}
const keyOf = ({ model, value }: ModelKey) => modelRowKey(model, value);

/** Where a request keeps the rows read ahead with a token (src/provider/batched-writes.ts). */
const readAheadKey = {
  byId: modelRowKey,
  byUid: (model: string, uid: string) => `${model}\u0000uid\u0000${uid}`,
};

/** Tokens whose rows name their grant and session: oidc-provider reads both right after the token. */
const TOKENS_WITH_RELATIVES = new Set(['RefreshToken', 'AccessToken', 'AuthorizationCode']);

const COLUMNS = 'model, id, uid, payload, consumed_at';
const LIVE = (at: string) => `(expires_at is null or expires_at > ${at})`;

/*
 * Written out once per key count: building them with Kysely's query builder on each call showed in
 * the token endpoint's CPU profile.
 */
const texts = new Map<string, string>();
function keyedText(column: 'id' | 'uid' | 'user_code' | 'relatives', keys: number): string {
  const cached = texts.get(`${column} ${keys}`);
  if (cached) return cached;
  const pairs = tuplePlaceholders(keys, 2);
  const at = `$${2 * keys + 1}`;
  const text =
    column === 'relatives'
      ? // The tokens, their grants (by payload.grantId) and their sessions (by payload.sessionUid), in one statement.
        `with t as (select ${COLUMNS} from oidc_models where (model, id) in (${pairs}) and ${LIVE(at)})
        select ${COLUMNS} from t
        union all select ${COLUMNS} from oidc_models
          where model = 'Grant' and id in (select payload->>'grantId' from t) and ${LIVE(at)}
        union all select ${COLUMNS} from oidc_models
          where model = 'Session' and uid in (select payload->>'sessionUid' from t) and ${LIVE(at)}`
      : `select ${COLUMNS}${column === 'user_code' ? ', user_code' : ''} from oidc_models
        where (model, ${column}) in (${pairs}) and ${LIVE(at)}`;
  texts.set(`${column} ${keys}`, text);
  return text;
}

const parameters = (keys: ModelKey[]) => [...keys.flatMap((k) => [k.model, k.value]), new Date()];

/** Finds by (model, id), (model, uid) or (model, user_code), batched across concurrent requests. */
function lookupsBy(db: Kysely<Database>, column: 'id' | 'uid' | 'user_code') {
  return new BatchedLookups<ModelKey, FoundRow>({
    keyOf,
    async fetch(keys) {
      const { rows } = await db.executeQuery<FoundRow & { user_code?: string }>(
        CompiledQuery.raw(keyedText(column, keys.length), parameters(keys)),
      );
      const found = new Map<string, FoundRow>();
      for (const row of rows) {
        const value = column === 'id' ? row.id : column === 'uid' ? row.uid : row.user_code;
        const key = keyOf({ model: row.model, value: value ?? '' });
        if (!found.has(key)) found.set(key, row); // by uid or user code: the first, as `limit 1` did
      }
      return found;
    },
  });
}

/** A token found with the grant and session it names, if they exist. */
export interface TokenWithRelatives {
  row: FoundRow;
  relatives: FoundRow[];
}

/**
 * Finds tokens by (model, id) with their grant and session in the same statement: a refresh reads
 * its refresh token, then the grant, then the session, and a code exchange its code, then the
 * same two; the last two then come from what the request read ahead, not the database.
 */
function tokenLookups(db: Kysely<Database>) {
  return new BatchedLookups<ModelKey, TokenWithRelatives>({
    keyOf,
    async fetch(keys) {
      const { rows } = await db.executeQuery<FoundRow>(
        CompiledQuery.raw(keyedText('relatives', keys.length), parameters(keys)),
      );
      const asked = new Set(keys.map(keyOf));
      const grants = new Map<string, FoundRow>();
      const sessions = new Map<string, FoundRow>();
      const tokens: FoundRow[] = [];
      for (const row of rows) {
        if (asked.has(keyOf({ model: row.model, value: row.id }))) tokens.push(row);
        else if (row.model === 'Grant') grants.set(row.id, row);
        else if (row.model === 'Session' && row.uid) sessions.set(row.uid, row);
      }
      const found = new Map<string, TokenWithRelatives>();
      for (const row of tokens) {
        const { grantId, sessionUid } = (row.payload ?? {}) as { grantId?: string; sessionUid?: string };
        const relatives = [grantId && grants.get(grantId), sessionUid && sessions.get(sessionUid)].filter(
          (r): r is FoundRow => Boolean(r),
        );
        found.set(keyOf({ model: row.model, value: row.id }), { row, relatives });
      }
      return found;
    },
  });
}

/**
 * The adapter's reads of oidc_models: by (model, id), uid or user code, batched across requests. A
 * token comes with its grant and session, which the request keeps (`readAhead`) for oidc-provider's
 * next finds; each is used once, so a second find of it reads the database again, as before, and
 * no two finds share a payload object oidc-provider may have changed.
 */
export function modelRowReader(db: Kysely<Database>, readAhead: () => Map<string, FoundRow> | undefined) {
  const lookups = { id: lookupsBy(db, 'id'), uid: lookupsBy(db, 'uid'), user_code: lookupsBy(db, 'user_code') };
  const tokens = tokenLookups(db);

  function take(ahead: Map<string, FoundRow> | undefined, key: string): FoundRow | undefined {
    const row = ahead?.get(key);
    if (!row) return undefined;
    ahead!.delete(readAheadKey.byId(row.model, row.id));
    if (row.uid) ahead!.delete(readAheadKey.byUid(row.model, row.uid));
    return row;
  }

  return {
    async byId(model: string, id: string): Promise<FoundRow | undefined> {
      const ahead = readAhead();
      const known = take(ahead, readAheadKey.byId(model, id));
      if (known) return known;
      if (!TOKENS_WITH_RELATIVES.has(model)) return lookups.id.find({ model, value: id });
      const found = await tokens.find({ model, value: id });
      for (const relative of found?.relatives ?? []) {
        ahead?.set(readAheadKey.byId(relative.model, relative.id), relative);
        if (relative.uid) ahead?.set(readAheadKey.byUid(relative.model, relative.uid), relative);
      }
      return found?.row;
    },

    async by(column: 'uid' | 'user_code', model: string, value: string): Promise<FoundRow | undefined> {
      const known = column === 'uid' ? take(readAhead(), readAheadKey.byUid(model, value)) : undefined;
      return known ?? lookups[column].find({ model, value });
    },
  };
}
