import test from 'ava';
import { ownStderr, runUmbral, storedClients, storesPerFile } from '../cli/umbral-cli.ts';
import { STORES } from '../support/stores.ts';

const stores = storesPerFile(test);

const add = (env: Record<string, string>, clientId: string, ...options: string[]) =>
  runUmbral(['clients', 'add', '--client-id', clientId, '--redirect-uri', 'https://portal.example/cb', ...options], {
    env,
  });

for (const kind of STORES) {
  const env = () => stores.get(kind)!.env;

  test.serial(
    `[${kind}] clients add stores RS256 by default, and --id-token-signing-alg, --strict-id-token-claims and --pkce optional`,
    async (t) => {
      const plain = await add(env(), 'plain');
      t.is(plain.code, 0, plain.stderr);
      t.is((JSON.parse(plain.stdout) as Record<string, unknown>)['id_token_signed_response_alg'], 'RS256');

      const tuned = await add(
        env(),
        'tuned',
        '--id-token-signing-alg',
        'EdDSA',
        '--strict-id-token-claims',
        '--pkce',
        'optional',
      );
      t.is(tuned.code, 0, tuned.stderr);
      t.like(JSON.parse(tuned.stdout), {
        id_token_signed_response_alg: 'EdDSA',
        strict_id_token_claims: true,
        pkce: 'optional',
      });

      const required = await add(env(), 'ps', '--id-token-signing-alg', 'PS256', '--pkce', 'required');
      t.is(required.code, 0, required.stderr);
      const clients = await storedClients(stores.get(kind)!);
      t.like(clients.get('tuned'), { id_token_signed_response_alg: 'EdDSA', strict_id_token_claims: true });
      t.like(clients.get('ps'), { id_token_signed_response_alg: 'PS256' });
      t.false('pkce' in clients.get('ps')!, 'required is the default and is not stored');
      t.false('strict_id_token_claims' in clients.get('plain')!);
    },
  );

  test.serial(
    `[${kind}] clients add refuses a bad alg or PKCE policy, and pkce optional on a public client`,
    async (t) => {
      const before = await storedClients(stores.get(kind)!);
      const refusals: Array<[string[], string]> = [
        [
          ['--id-token-signing-alg', 'HS256'],
          'umbral: --id-token-signing-alg "HS256" is not offered; use RS256, PS256, ES256, EdDSA',
        ],
        [
          ['--id-token-signing-alg', 'none'],
          'umbral: --id-token-signing-alg "none" is not offered; use RS256, PS256, ES256, EdDSA',
        ],
        [
          ['--id-token-signing-alg', 'rs256'],
          'umbral: --id-token-signing-alg "rs256" is not offered; use RS256, PS256, ES256, EdDSA',
        ],
        [['--pkce', 'off'], 'umbral: --pkce "off" is not a PKCE policy; use required or optional'],
        [
          ['--public', '--pkce', 'optional'],
          'umbral: pkce optional needs a confidential client: a public client has no secret, so PKCE is what protects its codes',
        ],
      ];
      for (const [options, message] of refusals) {
        const result = await add(env(), 'broken', ...options);
        t.is(result.code, 1, options.join(' '));
        t.is(ownStderr(result).trim(), message);
        t.is(result.stdout, '');
      }
      t.deepEqual(await storedClients(stores.get(kind)!), before, 'nothing changed');
    },
  );
}
