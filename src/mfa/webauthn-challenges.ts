import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export type ChallengePurpose = 'login' | 'second_factor' | 'register';

const TTL_SECONDS = 5 * 60;

/**
 * WebAuthn challenges, kept server-side and spent on first use (deleted as they are read), so an
 * assertion can never be replayed. The browser holds only the row's id, in a cookie.
 */
export class WebauthnChallenges {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps `challenge` (base64url, as the options carry it and the client data echoes it); returns the row's id. */
  async create(purpose: ChallengePurpose, userId: string | undefined, challenge: string): Promise<string> {
    const id = randomBytes(16).toString('base64url');
    await this.db
      .insertInto('webauthn_challenges')
      .values({
        id,
        purpose,
        user_id: userId ?? null,
        challenge,
        expires_at: new Date(this.now() + TTL_SECONDS * 1000),
      })
      .execute();
    return id;
  }

  /** The challenge, once: a second call for the same id finds nothing. */
  async take(id: string, purpose: ChallengePurpose): Promise<{ challenge: string; userId: string | null } | undefined> {
    if (!id || id.length > 64) return undefined;
    const row = await this.db
      .deleteFrom('webauthn_challenges')
      .where('id', '=', id)
      .returning(['purpose', 'user_id', 'challenge', 'expires_at'])
      .executeTakeFirst();
    if (!row || row.purpose !== purpose || new Date(row.expires_at).getTime() <= this.now()) return undefined;
    return { challenge: row.challenge, userId: row.user_id };
  }

  async purgeExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('webauthn_challenges')
      .where('expires_at', '<', new Date(this.now()))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
