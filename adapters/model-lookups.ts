import { CompiledQuery, type Kysely } from 'kysely';
import { BatchedLookups } from '../src/storage/batched-lookups.ts';
import { type FoundRow, modelRowKey, type ReadAheadCompanion } from '../src/storage/oidc-model-rows.ts';
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

/** Takes a row out of a request's read-ahead (each is used once), by its model and id. */
export function takeReadAhead(
  ahead: Map<string, FoundRow> | undefined,
  model: string,
  id: string,
): FoundRow | undefined {
  return take(ahead, readAheadKey.byId(model, id));
}

function take(ahead: Map<string, FoundRow> | undefined, key: string): FoundRow | undefined {
  const row = ahead?.get(key);
  if (!row) return undefined;
  ahead!.delete(readAheadKey.byId(row.model, row.id));
  if (row.uid) ahead!.delete(readAheadKey.byUid(row.model, row.uid));
  return row;
}

/** Tokens whose rows name their grant and session: oidc-provider reads both right after the token. */
const TOKENS_WITH_RELATIVES = new Set(['RefreshToken', 'AccessToken', 'AuthorizationCode']);

const COLUMNS = 'model, id, uid, payload, consumed_at';
const LIVE = (at: string) => `(expires_at is null or expires_at > ${at})`;

/*
 * Written out once per key count: building them with Kysely's query builder on each call showed in
 * the token endpoint's CPU profile.
 */
const texts = new Map<string, string>();
function keyedText(column: 'id' | 'uid' | 'user_code', keys: number): string {
  const cached = texts.get(`${column} ${keys}`);
  if (cached) return cached;
  const text = `select ${COLUMNS}${column === 'user_code' ? ', user_code' : ''} from oidc_models
    where (model, ${column}) in (${tuplePlaceholders(keys, 2)}) and ${LIVE(`$${2 * keys + 1}`)}`;
  texts.set(`${column} ${keys}`, text);
  return text;
}

/** The tokens, their grants (by payload.grantId), sessions (by payload.sessionUid) and companions' rows, in one statement. */
function relativesTexts(companions: readonly ReadAheadCompanion[]): (keys: number) => string {
  const byCount: string[] = [];
  return (keys) => {
    const at = `$${2 * keys + 1}`;
    byCount[keys] ??=
      `with t as (select ${COLUMNS} from oidc_models where (model, id) in (${tuplePlaceholders(keys, 2)}) and ${LIVE(at)})
        select ${COLUMNS} from t
        union all select ${COLUMNS} from oidc_models
          where model = 'Grant' and id in (select payload->>'grantId' from t) and ${LIVE(at)}
        union all select ${COLUMNS} from oidc_models
          where model = 'Session' and uid in (select payload->>'sessionUid' from t) and ${LIVE(at)}${companions
            .map((c) => `\n        union all ${c.select(`(select payload->>'${c.tokenField}' from t)`)}`)
            .join('')}`;
    return byCount[keys];
  };
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
 * same two; the last two then come from what the request read ahead, not the database. The
 * companions' rows (the account's claims, the grant's organization) come in the same statement.
 */
function tokenLookups(db: Kysely<Database>, companions: readonly ReadAheadCompanion[]) {
  const text = relativesTexts(companions);
  return new BatchedLookups<ModelKey, TokenWithRelatives>({
    keyOf,
    async fetch(keys) {
      const { rows } = await db.executeQuery<FoundRow>(CompiledQuery.raw(text(keys.length), parameters(keys)));
      const asked = new Set(keys.map(keyOf));
      const grants = new Map<string, FoundRow>();
      const sessions = new Map<string, FoundRow>();
      const companionRows = new Map<string, FoundRow>(); // by modelRowKey(companion model, id)
      const tokens: FoundRow[] = [];
      for (const row of rows) {
        if (asked.has(keyOf({ model: row.model, value: row.id }))) tokens.push(row);
        else if (row.model === 'Grant') grants.set(row.id, row);
        else if (row.model === 'Session' && row.uid) sessions.set(row.uid, row);
        else companionRows.set(modelRowKey(row.model, row.id), row);
      }
      // A row that two tokens of the batch name (their grant, account) goes to each request as a
      // copy of its own, as BatchedLookups does for a key asked twice: oidc-provider keeps and may
      // change the payloads it is given.
      const handedOut = new Set<FoundRow>();
      const own = (relative: FoundRow | undefined) => {
        if (relative === undefined) return undefined;
        if (handedOut.has(relative)) return structuredClone(relative);
        handedOut.add(relative);
        return relative;
      };
      const found = new Map<string, TokenWithRelatives>();
      for (const row of tokens) {
        const payload = (row.payload ?? {}) as Record<string, unknown>;
        const { grantId, sessionUid } = payload as { grantId?: string; sessionUid?: string };
        const relatives = [
          grantId ? own(grants.get(grantId)) : undefined,
          sessionUid ? own(sessions.get(sessionUid)) : undefined,
          ...companions.map((c) => {
            const key = payload[c.tokenField];
            return typeof key === 'string' ? own(companionRows.get(modelRowKey(c.model, key))) : undefined;
          }),
        ];
        found.set(keyOf({ model: row.model, value: row.id }), {
          row,
          relatives: relatives.filter((r): r is FoundRow => r !== undefined),
        });
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
export function modelRowReader(
  db: Kysely<Database>,
  readAhead: () => Map<string, FoundRow> | undefined,
  companions: readonly ReadAheadCompanion[] = [],
) {
  const lookups = { id: lookupsBy(db, 'id'), uid: lookupsBy(db, 'uid'), user_code: lookupsBy(db, 'user_code') };
  const tokens = tokenLookups(db, companions);

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
