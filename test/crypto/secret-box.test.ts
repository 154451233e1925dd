import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { SecretBox, SecretBoxError } from '../../src/crypto/secret-box.ts';
import { DEV_KEY_FILE, loadSecretEncryptionKey } from '../../src/crypto/secret-key.ts';
import { createLogger } from '../../src/logging/logger.ts';

const key = Buffer.alloc(32, 1);

test('sealed values open with the same key and context, and hold no plaintext', (t) => {
  const box = new SecretBox(key);
  const sealed = box.seal('JBSWY3DPEHPK3PXPJBSWY3DP', 'mfa:user-1:factor-1');
  t.false(sealed.includes('JBSWY3DP'));
  t.is(box.open(sealed, 'mfa:user-1:factor-1'), 'JBSWY3DPEHPK3PXPJBSWY3DP');
  t.not(box.seal('same', 'c'), box.seal('same', 'c'), 'a fresh IV each time');
});

test('another context, another key or a flipped bit does not open, with a clear error', (t) => {
  const box = new SecretBox(key);
  const sealed = box.seal('secret', 'mfa:user-1:factor-1');
  t.throws(() => box.open(sealed, 'mfa:user-2:factor-1'), { instanceOf: SecretBoxError, message: /another context/ });
  t.throws(() => new SecretBox(Buffer.alloc(32, 2)).open(sealed, 'mfa:user-1:factor-1'), {
    instanceOf: SecretBoxError,
    message: /another key/,
  });
  const parts = sealed.split('.');
  const ciphertext = Buffer.from(parts[3]!, 'base64url');
  ciphertext[0] = ciphertext[0]! ^ 1;
  parts[3] = ciphertext.toString('base64url');
  t.throws(() => box.open(parts.join('.'), 'mfa:user-1:factor-1'), { instanceOf: SecretBoxError });
  t.throws(() => box.open('not sealed', 'x'), { instanceOf: SecretBoxError });
  t.throws(() => new SecretBox(Buffer.alloc(16)), { instanceOf: RangeError });
});

test('SECRET_ENCRYPTION_KEY: 32 base64 bytes, required in production', (t) => {
  const good = Buffer.alloc(32, 9).toString('base64');
  t.deepEqual(loadConfig({ SECRET_ENCRYPTION_KEY: good }).secretEncryptionKey, Buffer.alloc(32, 9));
  for (const bad of ['short', Buffer.alloc(16).toString('base64'), '!!!!']) {
    const error = t.throws(() => loadConfig({ SECRET_ENCRYPTION_KEY: bad }), { instanceOf: ConfigError });
    t.is(error.variable, 'SECRET_ENCRYPTION_KEY');
  }
  const missing = t.throws(() => loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example.com' }), {
    instanceOf: ConfigError,
  });
  t.is(missing.variable, 'SECRET_ENCRYPTION_KEY');
  t.regex(missing.message, /must be set in production/);
});

test('without SECRET_ENCRYPTION_KEY, outside production, a development key is made once in DATA_DIR and reused', (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-key-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const logger = createLogger('silent');
  const first = loadSecretEncryptionKey({ secretEncryptionKey: undefined, production: false, dataDir }, logger);
  t.is(first.length, 32);
  t.is((fs.statSync(path.join(dataDir, DEV_KEY_FILE)).mode & 0o777).toString(8), '600', 'readable by the owner only');
  t.deepEqual(loadSecretEncryptionKey({ secretEncryptionKey: undefined, production: false, dataDir }, logger), first);
  const configured = Buffer.alloc(32, 3);
  t.deepEqual(
    loadSecretEncryptionKey({ secretEncryptionKey: configured, production: true, dataDir }, logger),
    configured,
  );
});

test('SMS configuration: twilio needs its account, log is refused in production, none turns SMS off', (t) => {
  t.deepEqual(loadConfig({}).sms, { provider: 'log' });
  const production = {
    NODE_ENV: 'production',
    SMTP_URL: 'smtp://mail.example.com',
    SECRET_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
  };
  t.deepEqual(loadConfig(production).sms, { provider: 'none' });
  t.is(
    t.throws(() => loadConfig({ ...production, SMS_PROVIDER: 'log' }), { instanceOf: ConfigError }).variable,
    'SMS_PROVIDER',
  );
  t.is(
    t.throws(() => loadConfig({ SMS_PROVIDER: 'twilio' }), { instanceOf: ConfigError }).variable,
    'TWILIO_ACCOUNT_SID',
  );
  t.is(
    t.throws(() => loadConfig({ TWILIO_ACCOUNT_SID: 'nope' }), { instanceOf: ConfigError }).variable,
    'TWILIO_ACCOUNT_SID',
  );
  const twilio = loadConfig({
    TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'x'.repeat(32),
    TWILIO_FROM: '+15005550006',
  }).sms;
  t.deepEqual(twilio, {
    provider: 'twilio',
    accountSid: `AC${'a'.repeat(32)}`,
    authToken: 'x'.repeat(32),
    from: '+15005550006',
    baseUrl: 'https://api.twilio.com',
  });
});
