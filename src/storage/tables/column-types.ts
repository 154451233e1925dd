import type { ColumnType } from 'kysely';

/** A timestamp column: read as a Date, written as a Date or an ISO string. */
export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** A JSON column: read parsed, written as its JSON text. */
export type Json<T = Record<string, unknown>> = ColumnType<T, string, string>;
