import type Koa from 'koa';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../storage/schema.ts';
import { loadCookieSigner } from './cookie-keys.ts';
import { loadSigningKeys, signingKeysVersion } from './signing-keys.ts';

/**
 * Keeps a running node's signing and cookie keys those of the database, so a rotation (`umbral keys
 * rotate`, or another node) is published and signed with by every node without a restart. `reload()`
 * runs on each change notice and every `intervalSeconds` as the backstop; it compares a cheap version
 * of the key list first and opens the keys only when it changed. Tokens signed by any published key
 * verify on every node, since each publishes (and verifies with) the same set.
 */
export class KeyReload {
  #version: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly options: {
      provider: Provider;
      app: Koa;
      db: Kysely<Database>;
      secretBox: SecretBox;
      logger: Logger;
    },
  ) {}

  async start(intervalSeconds: number): Promise<void> {
    this.#version = await signingKeysVersion(this.options.db);
    this.#timer = setInterval(() => this.reload(), intervalSeconds * 1000);
    this.#timer.unref();
  }

  /** Reloads now, or right after the reload under way; never throws (a failure waits for the next). */
  reload(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#reloadIfChanged()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: { message: (error as Error).message } }, 'signing keys: reload failed'),
      )
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          void this.reload();
        }
      });
    return this.#running;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #reloadIfChanged(): Promise<void> {
    const { provider, app, db, secretBox, logger } = this.options;
    const version = await signingKeysVersion(db);
    if (version === this.#version) return;
    const [jwks, cookieSigner] = await Promise.all([loadSigningKeys(db, secretBox), loadCookieSigner(db)]);
    initializeKeystore.call(provider, { keys: jwks });
    provider.keys = cookieSigner;
    app.keys = cookieSigner;
    this.#version = version;
    logger.info({ kids: jwks.map((k) => k.kid) }, 'signing keys reloaded');
  }
}
