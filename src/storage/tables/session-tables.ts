import type { ColumnType, Generated } from 'kysely';
import type { Timestamp } from './column-types.ts';

// Browser sessions beside oidc-provider's own: device and address, endings, the upstream used.

/** Device and address of a browser session (src/sessions/session-activity.ts). */
export interface SessionActivityTable {
  session_uid: string;
  account_id: string;
  user_agent: string | null;
  ip: string | null;
  created_at: Generated<Date>;
  last_seen_at: Timestamp;
}

/** Sessions ended for a reason their browser is told on its next visit. */
export interface EndedSessionTable {
  cookie_hash: string;
  reason: string;
  expires_at: Timestamp;
}

/** The upstream provider (google, microsoft) a session's federated sign-in used; amr says only `fed`. */
export interface SessionUpstreamTable {
  session_uid: string;
  /** The session's loginTs when recorded: a later sign-in in the same session makes the row stale. */
  login_ts: ColumnType<string | number, number, number>;
  upstream: string;
  expires_at: Timestamp;
}
