import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { selectWhereIn } from './sql-placeholders.ts';
import { TurnDrain } from './turn-drain.ts';

/** Keys per statement at most. */
const MAX_KEYS = 100;

interface Caller<Row> {
  resolve: (row: Row | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Lookups by key from concurrent requests, answered together (DataLoader's idea): the keys asked
 * for in one turn of the event loop, and those asked while a statement of this kind is in flight,
 * go to the database in one statement (`… where key in (…)`), and each caller gets its own row or
 * `undefined`. A lone lookup goes as soon as the current turn ends, so a quiet server answers as
 * before; under load a token request's reads (its refresh token, grant, session, account) cost a
 * statement per many requests instead of one each. A key is read by a statement sent after it was
 * asked for, so a lookup never misses a write that committed before it.
 */
export class BatchedLookups<Key, Row> {
  #waiting = new Map<string, { key: Key; callers: Array<Caller<Row>> }>();
  readonly #drain = new TurnDrain({
    pending: () => this.#waiting.size > 0,
    next: () => {
      // The first MAX_KEYS waiting, taken out as they are read (not a copy of every key waiting).
      const batch: Array<{ key: Key; callers: Array<Caller<Row>> }> = [];
      for (const [id, entry] of this.#waiting) {
        this.#waiting.delete(id);
        if (batch.push(entry) === MAX_KEYS) break;
      }
      return this.#fetch(batch);
    },
  });

  constructor(
    private readonly options: {
      /** A string that tells keys apart (the same key asked twice is read once). */
      keyOf: (key: Key) => string;
      /** Reads the rows of `keys`, each under its keyOf (missing keys: no entry). */
      fetch: (keys: Key[]) => Promise<Map<string, Row>>;
    },
  ) {}

  find(key: Key): Promise<Row | undefined> {
    return new Promise<Row | undefined>((resolve, reject) => {
      const id = this.options.keyOf(key);
      const waiting = this.#waiting.get(id);
      if (waiting) waiting.callers.push({ resolve, reject });
      else this.#waiting.set(id, { key, callers: [{ resolve, reject }] });
      this.#drain.request();
    });
  }

  async #fetch(batch: Array<{ key: Key; callers: Array<Caller<Row>> }>): Promise<void> {
    try {
      const rows = await this.options.fetch(batch.map((entry) => entry.key));
      for (const { key, callers } of batch) {
        const row = rows.get(this.options.keyOf(key));
        // Each caller its own copy: what one request does with its row is no other's business.
        callers.forEach((caller, i) => {
          caller.resolve(i === 0 || row === undefined ? row : structuredClone(row));
        });
      }
    } catch (error) {
      for (const { callers } of batch) for (const caller of callers) caller.reject(error);
    }
  }
}

/**
 * Rows by a text key with one `select … where <key> in (…)` per turn: `select` is the statement up
 * to `in` (src/storage/sql-placeholders.ts), `keyOf` the key each row answers for. `db` is asked
 * for at each fetch, so a class field can be built before its constructor has stored the database.
 */
export function lookupsByKey<Row>(
  db: () => Kysely<Database>,
  select: string,
  keyOf: (row: Row) => string,
): BatchedLookups<string, Row> {
  return new BatchedLookups<string, Row>({
    keyOf: (key) => key,
    fetch: async (keys) => {
      const { rows } = await db().executeQuery<Row>(CompiledQuery.raw(selectWhereIn(select, keys.length), keys));
      return new Map(rows.map((row) => [keyOf(row), row]));
    },
  });
}
