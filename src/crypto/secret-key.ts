import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';

export const DEV_KEY_FILE = 'secret-encryption.key';

/**
 * The key for secrets at rest: SECRET_ENCRYPTION_KEY (config refuses production without it), or
 * outside production a key generated once and kept in DATA_DIR, so `npm start` works with no
 * configuration. Losing that file makes stored authenticator-app secrets unreadable, hence the warning.
 */
export function loadSecretEncryptionKey(
  config: Pick<Config, 'secretEncryptionKey' | 'production' | 'dataDir'>,
  logger: Logger,
): Buffer {
  if (config.secretEncryptionKey) return config.secretEncryptionKey;
  if (config.production) throw new Error('SECRET_ENCRYPTION_KEY must be set in production');
  const file = path.join(config.dataDir, DEV_KEY_FILE);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': only the first process creates it; the others read what it wrote.
    fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
    logger.warn(
      { file },
      'SECRET_ENCRYPTION_KEY is not set: generated a development key; set SECRET_ENCRYPTION_KEY (openssl rand -base64 32) before real use',
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    logger.warn({ file }, 'SECRET_ENCRYPTION_KEY is not set: using the development key in DATA_DIR');
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}
