import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** keygrip's signature: HMAC-SHA1 of the cookie's `name=value`, base64 made URL-safe, no padding. */
const signature = (key: KeyObject, data: string) => createHmac('sha1', key).update(data).digest('base64url');

/**
 * Signs and checks the `.sig` cookies of Koa and oidc-provider in keygrip's place, with the same
 * signatures, so cookies signed before an upgrade stay valid. keygrip compares through tsscmp,
 * which draws random bytes and computes two more HMACs per comparison; `timingSafeEqual` is
 * constant-time without them. Every request reads several signed cookies, so it shows in a login.
 * The newest key signs; the older ones still verify (Cookies re-signs with the newest on a match).
 */
export class CookieSigner {
  /** The secrets, newest first, as the database keeps them (compared when keys reload). */
  readonly secrets: readonly string[];
  readonly #keys: KeyObject[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('cookie signing needs at least one key');
    this.secrets = [...secrets];
    this.#keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  }

  sign(data: string): string {
    return signature(this.#keys[0]!, data);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) !== -1;
  }

  /** Which key signed `data` as `digest`: 0 for the newest, -1 for none. */
  index(data: string, digest: string): number {
    const given = Buffer.from(digest, 'utf8');
    for (let i = 0; i < this.#keys.length; i++) {
      const expected = Buffer.from(signature(this.#keys[i]!, data), 'utf8');
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  }
}
