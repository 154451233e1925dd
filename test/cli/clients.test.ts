import test from 'ava';
import { hashClientSecret } from '../../src/clients/client-secret.ts';
import { STORES } from '../support/stores.ts';
import { ownStderr, runUmbral, storedClients, storesPerFile } from './umbral-cli.ts';

const stores = storesPerFile(test);

for (const kind of STORES) {
  const env = () => stores.get(kind)!.env;

  test.serial(
    `[${kind}] clients add prints a generated secret once, stores its hash and refuses the same id again`,
    async (t) => {
      const added = await runUmbral(
        ['clients', 'add', '--client-id', 'portal', '--redirect-uri', 'https://portal.example/cb', '--name', 'Portal'],
        { env: env() },
      );
      t.is(added.code, 0, added.stderr);
      t.is(ownStderr(added).trim(), '');
      const client = JSON.parse(added.stdout) as Record<string, unknown>;
      t.like(client, {
        client_id: 'portal',
        client_name: 'Portal',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['https://portal.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
        first_party: false,
      });
      const secret = client['client_secret'];
      t.true(typeof secret === 'string' && secret.length >= 32);

      const again = await runUmbral(
        ['clients', 'add', '--client-id', 'portal', '--redirect-uri', 'https://other.example/cb'],
        { env: env() },
      );
      t.is(again.code, 1);
      t.is(again.stdout, '');
      t.is(ownStderr(again).trim(), 'umbral: a client with id portal already exists');

      const stored = (await storedClients(stores.get(kind)!)).get('portal')!;
      t.is(
        stored['client_secret'],
        hashClientSecret(secret as string),
        'stored hashed, and still the first registration',
      );
      t.true((stored['client_secret'] as string).startsWith('sha256$'));
      t.false(JSON.stringify(stored).includes(secret as string));
      t.deepEqual(stored['redirect_uris'], ['https://portal.example/cb']);

      const listed = await runUmbral(['clients', 'list'], { env: env() });
      t.is(listed.code, 0, listed.stderr);
      const clients = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
      t.true(clients.some((c) => c['client_id'] === 'portal' && c['client_name'] === 'Portal'));
      t.true(clients.every((c) => !('client_secret' in c)));
      t.false(listed.stdout.includes(secret as string));
    },
  );

  test.serial(`[${kind}] clients add takes every option`, async (t) => {
    const result = await runUmbral(
      [
        'clients',
        'add',
        '--client-id',
        'spa',
        '--public',
        '--first-party',
        '--redirect-uri',
        'http://localhost:5173/cb',
        '--redirect-uri',
        'https://spa.example/cb',
        '--post-logout-redirect-uri',
        'https://spa.example/bye',
        '--backchannel-logout-uri',
        'https://spa.example/backchannel',
        '--grant-types',
        'authorization_code, refresh_token',
        '--collect-company',
      ],
      { env: env() },
    );
    t.is(result.code, 0, result.stderr);
    const client = JSON.parse(result.stdout) as Record<string, unknown>;
    t.false('client_secret' in client);
    t.like(client, {
      token_endpoint_auth_method: 'none',
      first_party: true,
      // The company step's portals end every sign-in with a company.
      collect_company: true,
      organization: 'required',
      redirect_uris: ['http://localhost:5173/cb', 'https://spa.example/cb'],
      post_logout_redirect_uris: ['https://spa.example/bye'],
      backchannel_logout_uri: 'https://spa.example/backchannel',
    });
  });

  test.serial(`[${kind}] clients add refuses bad values and stores nothing`, async (t) => {
    const before = await storedClients(stores.get(kind)!);
    const refusals: Array<[string[], string]> = [
      [['--redirect-uri', 'portal.example/cb'], 'umbral: --redirect-uri "portal.example/cb" is not an absolute URL'],
      // Well-formed, but oidc-provider's client validation rejects it.
      [['--redirect-uri', 'https://portal.example/cb#x'], 'umbral: redirect_uris must not contain fragments'],
      // The rules dynamic registration shares (src/clients/client-metadata-rules.ts).
      [
        ['--redirect-uri', 'http://portal.example/cb'],
        'umbral: redirect_uris must use https unless the host is a loopback address (localhost, 127.0.0.1, [::1])',
      ],
      [
        ['--redirect-uri', 'https://portal.example/cb', '--post-logout-redirect-uri', 'http://127.example.com/'],
        'umbral: post_logout_redirect_uris must use https unless the host is a loopback address (localhost, 127.0.0.1, [::1])',
      ],
      [
        ['--redirect-uri', 'https://x.example/cb', '--grant-types', 'authorization_code,implicit'],
        'umbral: unknown grant type "implicit"; use authorization_code, refresh_token, client_credentials',
      ],
      [
        ['--redirect-uri', 'https://x.example/cb', '--public', '--client-secret', 's'.repeat(40)],
        'umbral: a public client has no secret',
      ],
    ];
    for (const [options, message] of refusals) {
      const result = await runUmbral(['clients', 'add', '--client-id', 'broken', ...options], { env: env() });
      t.is(result.code, 1, options.join(' '));
      t.is(ownStderr(result).trim(), message);
      t.is(result.stdout, '');
    }
    t.deepEqual(await storedClients(stores.get(kind)!), before);
  });

  test.serial(`[${kind}] clients remove deletes a client and refuses an unknown id`, async (t) => {
    const secret = 'k'.repeat(40);
    const added = await runUmbral(
      ['clients', 'add', '--client-id', 'reports', '--grant-types', 'client_credentials', '--client-secret', secret],
      { env: env() },
    );
    t.is(added.code, 0, added.stderr);
    t.like(JSON.parse(added.stdout), {
      client_secret: secret,
      grant_types: ['client_credentials'],
      response_types: [],
    });

    const removed = await runUmbral(['clients', 'remove', '--client-id', 'reports'], { env: env() });
    t.is(removed.code, 0, removed.stderr);
    t.deepEqual(JSON.parse(removed.stdout), { removed: 'reports' });

    const again = await runUmbral(['clients', 'remove', '--client-id', 'reports'], { env: env() });
    t.is(again.code, 1);
    t.is(again.stderr.trim(), 'umbral: no client with id reports');
  });
}

for (const kind of STORES) {
  const env = () => stores.get(kind)!.env;

  test.serial(
    `[${kind}] clients add --single-session marks the portal; the account page's own id is reserved`,
    async (t) => {
      const added = await runUmbral(
        ['clients', 'add', '--client-id', 'crm', '--redirect-uri', 'https://crm.example/cb', '--single-session'],
        { env: env() },
      );
      t.is(added.code, 0, added.stderr);
      t.is((JSON.parse(added.stdout) as Record<string, unknown>)['single_session'], true);
      t.is((await storedClients(stores.get(kind)!)).get('crm')!['single_session'], true);

      const reserved = await runUmbral(
        ['clients', 'add', '--client-id', 'umbral-account', '--redirect-uri', 'https://evil.example/cb'],
        { env: env() },
      );
      t.is(reserved.code, 1);
      t.regex(ownStderr(reserved), /umbral-account is Umbral's own account page/);
      t.false((await storedClients(stores.get(kind)!)).has('umbral-account'));
    },
  );
}
