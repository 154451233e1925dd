import test from 'ava';
import { inStore, ownStderr, runUmbral, storedClients, storesPerFile } from '../cli/umbral-cli.ts';
import { STORES } from '../support/stores.ts';

const stores = storesPerFile(test);

for (const kind of STORES) {
  const env = () => ({ ...stores.get(kind)!.env, USER: 'maria' });
  const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

  test.serial(`[${kind}] clients add --admin-scopes: an automation client with client_credentials only`, async (t) => {
    const bad = await runUmbral(['clients', 'add', '--client-id', 'bot', '--admin-scopes', 'clients:write,root'], {
      env: env(),
    });
    t.is(bad.code, 1);
    t.regex(ownStderr(bad), /unknown admin scope "root"; use clients:read, clients:write/);
    t.false((await storedClients(stores.get(kind)!)).has('bot'), 'nothing stored');
    const added = await runUmbral(
      ['clients', 'add', '--client-id', 'bot', '--admin-scopes', 'audit:read clients:write'],
      { env: env() },
    );
    t.is(added.code, 0, added.stderr);
    t.like(json(added.stdout), {
      grant_types: ['client_credentials'],
      admin_scopes: ['clients:write', 'audit:read'],
      response_types: [],
    });
    const both = await runUmbral(
      [
        'clients',
        'add',
        '--client-id',
        'hybrid',
        '--grant-types',
        'authorization_code',
        '--redirect-uri',
        'https://h.example/cb',
        '--admin-scopes',
        'users:read',
      ],
      { env: env() },
    );
    t.is(both.code, 0, both.stderr);
    t.deepEqual(json(both.stdout)['grant_types'], ['authorization_code', 'client_credentials'], 'implied');
  });

  test.serial(
    `[${kind}] clients update changes what it is given, refuses bad values whole, and is audited`,
    async (t) => {
      const added = await runUmbral(
        [
          'clients',
          'add',
          '--client-id',
          'crm',
          '--redirect-uri',
          'https://crm.example/cb',
          '--name',
          'CRM',
          '--logo-uri',
          'https://crm.example/logo.png',
        ],
        { env: env() },
      );
      t.is(added.code, 0, added.stderr);
      const before = (await storedClients(stores.get(kind)!)).get('crm');
      for (const [args, message] of [
        [['--brand-color', '#fafafa'], /brand_color #fafafa is too light/],
        [['--redirect-uri', 'http://crm.example/cb'], /redirect_uris must use https/],
        [['--clear', 'client-secret'], /--clear client-secret: not a setting that can be cleared/],
        [['--name', 'X', '--clear', 'name'], /--clear name and --name together/],
        [[], /needs at least one setting/],
      ] as const) {
        const refused = await runUmbral(['clients', 'update', '--client-id', 'crm', ...args], { env: env() });
        t.is(refused.code, 1, args.join(' '));
        t.regex(ownStderr(refused), message);
      }
      t.deepEqual((await storedClients(stores.get(kind)!)).get('crm'), before, 'nothing changed');
      const missing = await runUmbral(['clients', 'update', '--client-id', 'nope', '--name', 'X'], { env: env() });
      t.is(ownStderr(missing).trim(), 'umbral: no client with id nope');

      const updated = await runUmbral(
        [
          'clients',
          'update',
          '--client-id',
          'crm',
          '--name',
          'CRM Cloud',
          '--brand-color',
          '#0b5cad',
          '--clear',
          'logo-uri',
        ],
        { env: env() },
      );
      t.is(updated.code, 0, updated.stderr);
      const client = json(updated.stdout);
      t.like(client, { client_name: 'CRM Cloud', brand_color: '#0b5cad', redirect_uris: ['https://crm.example/cb'] });
      t.false('logo_uri' in client);
      const stored = (await storedClients(stores.get(kind)!)).get('crm')!;
      t.is(stored['client_secret'], before!['client_secret'], 'the secret is untouched');
      const events = await inStore(stores.get(kind)!, (db) =>
        db.selectFrom('audit_events').selectAll().where('type', '=', 'client.updated').execute(),
      );
      t.is(events.length, 1);
      t.is(events[0]!.actor_id, 'maria');
      t.like(events[0]!.data as Record<string, unknown>, {
        command: 'clients update',
        clientId: 'crm',
        before: { client_name: 'CRM', brand_color: null, logo_uri: 'https://crm.example/logo.png' },
        after: { client_name: 'CRM Cloud', brand_color: '#0b5cad', logo_uri: null },
      });
    },
  );

  test.serial(
    `[${kind}] clients rotate-secret prints the new secret once; clients show lists both, dated`,
    async (t) => {
      const added = await runUmbral(
        ['clients', 'add', '--client-id', 'erp', '--redirect-uri', 'https://erp.example/cb'],
        {
          env: env(),
        },
      );
      const oldSecret = json(added.stdout)['client_secret'] as string;
      const badDuration = await runUmbral(
        ['clients', 'rotate-secret', '--client-id', 'erp', '--keep-old-for', '200d'],
        {
          env: env(),
        },
      );
      t.is(badDuration.code, 1);
      t.regex(ownStderr(badDuration), /--keep-old-for 200d is too long: at most 90d/);
      const rotated = await runUmbral(['clients', 'rotate-secret', '--client-id', 'erp', '--keep-old-for', '2d'], {
        env: env(),
      });
      t.is(rotated.code, 0, rotated.stderr);
      const answer = json(rotated.stdout);
      const newSecret = answer['client_secret'] as string;
      t.true(newSecret.length >= 43 && newSecret !== oldSecret);
      t.regex(ownStderr(rotated), /printed once\. The old one keeps working for 48 hours/);
      const shown = await runUmbral(['clients', 'show', '--client-id', 'erp'], { env: env() });
      t.is(shown.code, 0, shown.stderr);
      const secrets = json(shown.stdout)['secrets'] as Array<{
        status: string;
        created_at: string;
        expires_at: string | null;
      }>;
      t.deepEqual(
        secrets.map((s) => s.status),
        ['current', 'previous'],
      );
      const hours = (Date.parse(secrets[1]!.expires_at!) - Date.now()) / 3600_000;
      t.true(hours > 47.9 && hours <= 48);
      for (const text of [shown.stdout, JSON.stringify(await storedClients(stores.get(kind)!))]) {
        t.false(text.includes(oldSecret) || text.includes(newSecret), 'no secret value anywhere');
      }
      t.false(shown.stdout.includes('sha256$'), 'nor a hash in what is shown');
      const publicClient = await runUmbral(
        ['clients', 'add', '--client-id', 'spa', '--public', '--redirect-uri', 'https://spa.example/cb'],
        { env: env() },
      );
      t.is(publicClient.code, 0, publicClient.stderr);
      const none = await runUmbral(['clients', 'rotate-secret', '--client-id', 'spa'], { env: env() });
      t.is(none.code, 1);
      t.regex(ownStderr(none), /client spa has no secret to rotate/);
    },
  );
}
