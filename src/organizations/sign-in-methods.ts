import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { SignInMethod } from './organization-input.ts';

/** An upstream provider Umbral federates with, as the organization policy names it. */
export type Upstream = 'google' | 'microsoft';

export function isUpstream(value: unknown): value is Upstream {
  return value === 'google' || value === 'microsoft';
}

/**
 * How a sign-in proved who the person is, in the policy's words, read from its RFC 8176 amr:
 * `pwd` is the password; `fed` an upstream provider (which one amr does not say: `upstream`
 * does, when known); a passkey (`hwk`/`swk`) counts as a passkey sign-in only when it was the
 * first factor, i.e. without `pwd` or `fed` (after a password it is a second factor). Linking an
 * upstream account with the password gives both `fed` and `pwd`.
 */
export interface SignInWay {
  methods: SignInMethod[];
  /** A federated sign-in whose provider is not known: allowed only where both providers are. */
  unknownUpstream: boolean;
}

export function signInWayOf(amr: readonly string[] | undefined, upstream: Upstream | undefined): SignInWay {
  const methods = new Set<SignInMethod>();
  const given = amr ?? [];
  const federated = given.includes('fed');
  if (given.includes('pwd')) methods.add('password');
  if (federated && upstream) methods.add(upstream);
  if (!federated && !given.includes('pwd') && (given.includes('hwk') || given.includes('swk'))) methods.add('passkey');
  return { methods: [...methods], unknownUpstream: federated && !upstream };
}

/** Whether an organization allowing `allowed` takes a sign-in made this way. */
export function allowsSignIn(allowed: readonly SignInMethod[], way: SignInWay): boolean {
  if (way.methods.some((method) => allowed.includes(method))) return true;
  return way.unknownUpstream && allowed.includes('google') && allowed.includes('microsoft');
}

/**
 * Which upstream provider each session's latest federated sign-in used, recorded when the sign-in
 * completes, so a later authorization in that session is judged by the method it really used.
 */
export class SessionUpstreams {
  constructor(private readonly db: Kysely<Database>) {}

  async record(input: { sessionUid: string; loginTs: number; upstream: Upstream; expiresAt: Date }): Promise<void> {
    const row = {
      session_uid: input.sessionUid,
      login_ts: input.loginTs,
      upstream: input.upstream,
      expires_at: input.expiresAt,
    };
    await this.db
      .insertInto('session_upstreams')
      .values(row)
      .onConflict((oc) =>
        oc.column('session_uid').doUpdateSet({
          login_ts: input.loginTs,
          upstream: input.upstream,
          expires_at: input.expiresAt,
        }),
      )
      .execute();
  }

  /** The provider of the session's sign-in at `loginTs`; undefined when that sign-in was not federated or not recorded. */
  async find(sessionUid: string, loginTs: number | undefined): Promise<Upstream | undefined> {
    if (loginTs === undefined) return undefined;
    const row = await this.db
      .selectFrom('session_upstreams')
      .select(['login_ts', 'upstream'])
      .where('session_uid', '=', sessionUid)
      .executeTakeFirst();
    if (!row || Number(row.login_ts) !== loginTs) return undefined;
    return isUpstream(row.upstream) ? row.upstream : undefined;
  }

  async purgeExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('session_upstreams')
      .where('expires_at', '<', sql<Date>`now()`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
