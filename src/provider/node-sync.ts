import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { ClientCache } from '../clients/client-cache.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Logger } from '../logging/logger.ts';
import { listenForChanges } from '../storage/change-notices.ts';
import type { Storage } from '../storage/database.ts';
import { KeyReload } from './key-reload.ts';

/**
 * What keeps the nodes of one deployment alike without a restart: each change notice
 * (src/storage/change-notices.ts) drops a client from this node's cache or reloads the keys, and
 * the keys are also reloaded every `keyReloadSeconds` in case a notice was lost.
 */
export async function startNodeSync(options: {
  storage: Storage;
  provider: Provider;
  app: Koa;
  secretBox: SecretBox;
  logger: Logger;
  clientCache: ClientCache;
  keyReloadSeconds: number;
}): Promise<{ stop(): Promise<void> }> {
  const { storage, provider, app, secretBox, logger, clientCache } = options;
  const keys = new KeyReload({ provider, app, db: storage.db, secretBox, logger });
  await keys.start(options.keyReloadSeconds);
  let listening: Awaited<ReturnType<typeof listenForChanges>>;
  try {
    listening = await listenForChanges(storage, logger, {
      onNotice(notice) {
        if ('client' in notice) clientCache.invalidate(notice.client);
        else void keys.reload();
      },
      onResync() {
        clientCache.clear();
        void keys.reload();
      },
    });
  } catch (error) {
    keys.stop(); // its reload timer would outlive the failed start
    throw error;
  }
  return {
    async stop() {
      keys.stop();
      await listening.stop();
    },
  };
}
