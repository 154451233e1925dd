import test from 'ava';
import { ownStderr, runUmbral, storedClients, storesPerFile } from '../cli/umbral-cli.ts';
import { STORES } from '../support/stores.ts';

const stores = storesPerFile(test);

for (const kind of STORES) {
  const env = () => stores.get(kind)!.env;

  test.serial(`[${kind}] clients add --organization and --initiate-login-uri are stored and listed`, async (t) => {
    const added = await runUmbral(
      [
        'clients',
        'add',
        '--client-id',
        'beneficios',
        '--redirect-uri',
        'https://beneficios.example/cb',
        '--organization',
        'required',
        '--initiate-login-uri',
        'https://beneficios.example/login',
      ],
      { env: env() },
    );
    t.is(added.code, 0, added.stderr);
    t.like(JSON.parse(added.stdout), {
      organization: 'required',
      initiate_login_uri: 'https://beneficios.example/login',
    });
    const optional = await runUmbral(
      [
        'clients',
        'add',
        '--client-id',
        'crm',
        '--redirect-uri',
        'http://localhost:8080/cb',
        '--organization',
        'optional',
      ],
      { env: env() },
    );
    t.is(optional.code, 0, optional.stderr);
    const plain = await runUmbral(
      ['clients', 'add', '--client-id', 'nube', '--redirect-uri', 'https://nube.example/cb'],
      {
        env: env(),
      },
    );
    t.false('organization' in JSON.parse(plain.stdout), 'default: no organization setting');

    const listed = JSON.parse((await runUmbral(['clients', 'list'], { env: env() })).stdout) as Array<
      Record<string, unknown>
    >;
    t.like(
      listed.find((c) => c['client_id'] === 'beneficios'),
      { organization: 'required', initiate_login_uri: 'https://beneficios.example/login' },
    );
    t.like(
      listed.find((c) => c['client_id'] === 'crm'),
      { organization: 'optional' },
    );
  });

  test.serial(`[${kind}] bad --organization and --initiate-login-uri values are refused, nothing stored`, async (t) => {
    const before = await storedClients(stores.get(kind)!);
    const refusals: Array<[string[], string]> = [
      [
        ['--organization', 'mandatory'],
        'umbral: --organization "mandatory" is not an organization setting; use required or optional (or leave it out)',
      ],
      [
        ['--organization', ''],
        'umbral: --organization "" is not an organization setting; use required or optional (or leave it out)',
      ],
      [
        ['--initiate-login-uri', 'beneficios.example/login'],
        'umbral: --initiate-login-uri "beneficios.example/login" is not an absolute URL',
      ],
      [
        ['--initiate-login-uri', 'http://beneficios.example/login'],
        'umbral: initiate_login_uri must be an https URI without a fragment (OpenID Connect Registration allows no other scheme, even on loopback)',
      ],
      [
        ['--initiate-login-uri', 'http://localhost:8080/login'],
        'umbral: initiate_login_uri must be an https URI without a fragment (OpenID Connect Registration allows no other scheme, even on loopback)',
      ],
      [
        ['--initiate-login-uri', 'https://beneficios.example/login#start'],
        'umbral: initiate_login_uri must be an https URI without a fragment (OpenID Connect Registration allows no other scheme, even on loopback)',
      ],
    ];
    for (const [options, message] of refusals) {
      const result = await runUmbral(
        ['clients', 'add', '--client-id', 'broken', '--redirect-uri', 'https://x.example/cb', ...options],
        { env: env() },
      );
      t.not(result.code, 0, options.join(' '));
      t.is(ownStderr(result).trim().split('\n')[0], message);
      t.is(result.stdout, '');
    }
    t.deepEqual(await storedClients(stores.get(kind)!), before);
  });
}
