import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { exportJWK, generateKeyPair } from 'jose';
import { COMMAND_STORES } from '../support/stores.ts';
import { ownStderr, runUmbral, storedClients, storesPerFile } from './umbral-cli.ts';

const stores = storesPerFile(test);

for (const kind of COMMAND_STORES) {
  const store = () => stores.get(kind)!;
  const write = (name: string, content: unknown) => {
    const file = path.join(store().dataDir, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };

  test.serial(
    `[${kind}] clients add --jwks-file / --jwks-uri register a private_key_jwt portal without secret`,
    async (t) => {
      const { publicKey } = await generateKeyPair('ES256');
      const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig' }] };
      const added = await runUmbral(
        [
          'clients',
          'add',
          '--client-id',
          'signed',
          '--redirect-uri',
          'https://portal.example/cb',
          '--jwks-file',
          write('public.json', jwks),
        ],
        { env: store().env },
      );
      t.is(added.code, 0, added.stderr);
      const printed = JSON.parse(added.stdout) as Record<string, unknown>;
      t.like(printed, { client_id: 'signed', token_endpoint_auth_method: 'private_key_jwt', jwks });
      t.false('client_secret' in printed);

      const byUri = await runUmbral(
        [
          'clients',
          'add',
          '--client-id',
          'published',
          '--redirect-uri',
          'https://portal.example/cb',
          '--jwks-uri',
          'https://portal.example/jwks.json',
        ],
        { env: store().env },
      );
      t.is(byUri.code, 0, byUri.stderr);
      t.like(JSON.parse(byUri.stdout), {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://portal.example/jwks.json',
      });

      const stored = await storedClients(store());
      t.like(stored.get('signed'), { token_endpoint_auth_method: 'private_key_jwt', jwks });
      t.false('client_secret' in stored.get('signed')!);
      t.like(stored.get('published'), { jwks_uri: 'https://portal.example/jwks.json' });
    },
  );

  test.serial(`[${kind}] clients add refuses private keys and bad key sets, and stores nothing`, async (t) => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const before = await storedClients(store());
    const cb = ['--redirect-uri', 'https://portal.example/cb'];
    const privateFile = write('private.json', { keys: [await exportJWK(privateKey)] });
    const refusals: Array<[string[], string]> = [
      [
        [...cb, '--jwks-file', privateFile],
        `umbral: --jwks-file ${privateFile}: key 1 has private member "d": give public keys only`,
      ],
      [
        [...cb, '--jwks-file', write('secret.json', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })],
        `umbral: --jwks-file ${path.join(store().dataDir, 'secret.json')}: the key set must be {"keys": [...]} with EC, RSA or OKP keys`,
      ],
      [
        [...cb, '--jwks-file', write('broken.json', { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] })],
        `umbral: --jwks-file ${path.join(store().dataDir, 'broken.json')}: key 1 is not a valid EC public key`,
      ],
      [
        [...cb, '--jwks-file', write('text.json', 'not json')],
        `umbral: --jwks-file ${path.join(store().dataDir, 'text.json')}: the key set is not JSON`,
      ],
      [
        [...cb, '--jwks-file', path.join(store().dataDir, 'missing.json')],
        `umbral: cannot read --jwks-file ${path.join(store().dataDir, 'missing.json')}: ENOENT`,
      ],
      [
        [...cb, '--jwks-uri', 'https://portal.example/jwks', '--jwks-file', privateFile],
        'umbral: give --jwks-uri or --jwks-file, not both',
      ],
      [[...cb, '--jwks-uri', 'portal.example/jwks'], 'umbral: --jwks-uri "portal.example/jwks" is not an absolute URL'],
      [
        [...cb, '--jwks-uri', 'https://portal.example/jwks', '--client-secret', 's'.repeat(40)],
        'umbral: a client with keys authenticates with them: drop --public and --client-secret',
      ],
    ];
    for (const [options, message] of refusals) {
      const result = await runUmbral(['clients', 'add', '--client-id', 'broken', ...options], { env: store().env });
      t.is(result.code, 1, options.join(' '));
      t.is(ownStderr(result).trim(), message);
      t.is(result.stdout, '');
    }
    t.deepEqual(await storedClients(store()), before);
  });
}
