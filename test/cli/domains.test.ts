import test from 'ava';
import { DOMAIN_ADD_OPTIONS, DOMAIN_REMOVE_OPTIONS } from '../../src/cli/domains-commands.ts';
import { USAGE } from '../../src/cli/usage.ts';
import { COMMAND_STORES, createTestStore, type TestStore } from '../support/stores.ts';
import { inStore, ownStderr, runUmbral } from './umbral-cli.ts';

const stores = new Map<string, TestStore>();

test.before(async () => {
  for (const kind of COMMAND_STORES) stores.set(kind, await createTestStore(kind));
});

test.after.always(async () => {
  for (const store of stores.values()) await store.cleanup();
});

test('the usage names the domains commands and their options', (t) => {
  for (const options of [DOMAIN_ADD_OPTIONS, DOMAIN_REMOVE_OPTIONS])
    for (const name of Object.keys(options)) t.true(USAGE.includes(`--${name}`), name);
  for (const command of ['domains add', 'domains list', 'domains remove'])
    t.true(USAGE.includes(`umbral ${command}`), command);
});

function routes(store: TestStore) {
  return inStore(store, (db) => db.selectFrom('domain_routes').selectAll().orderBy('domain').execute());
}

for (const kind of COMMAND_STORES) {
  const store = () => stores.get(kind)!;

  test.serial(`[${kind}] domains add, list and remove; a domain is routed once, lower-cased`, async (t) => {
    const added = await runUmbral(['domains', 'add', '--domain', 'Acme.COM', '--provider', 'microsoft'], {
      env: store().env,
    });
    t.is(added.code, 0, added.stderr);
    t.like(JSON.parse(added.stdout), { domain: 'acme.com', provider: 'microsoft' });
    t.regex(
      ownStderr(added),
      /microsoft is not configured on this environment/,
      'the operator is told the route is idle',
    );

    const again = await runUmbral(['domains', 'add', '--domain', 'acme.com', '--provider', 'google'], {
      env: store().env,
    });
    t.is(again.code, 1);
    t.is(again.stdout, '');
    t.is(ownStderr(again).trim(), 'umbral: acme.com is already routed to microsoft; remove it first');

    const listed = await runUmbral(['domains', 'list'], { env: store().env });
    t.is(listed.code, 0, listed.stderr);
    t.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ domain: string; provider: string }>).map((r) => [r.domain, r.provider]),
      [['acme.com', 'microsoft']],
    );

    const removed = await runUmbral(['domains', 'remove', '--domain', 'acme.com'], { env: store().env });
    t.is(removed.code, 0, removed.stderr);
    t.deepEqual(await routes(store()), []);
    const missing = await runUmbral(['domains', 'remove', '--domain', 'acme.com'], { env: store().env });
    t.is(missing.code, 1);
    t.is(ownStderr(missing).trim(), 'umbral: acme.com is not routed');
  });

  test.serial(
    `[${kind}] bad domains and providers are refused (exit 1) and change nothing; usage mistakes exit 2`,
    async (t) => {
      for (const [args, message] of [
        [
          ['--domain', 'not a domain', '--provider', 'google'],
          'umbral: "not a domain" is not a domain name (e.g. acme.com)',
        ],
        [
          ['--domain', 'ana@acme.com', '--provider', 'google'],
          'umbral: "ana@acme.com" is not a domain name (e.g. acme.com)',
        ],
        [['--domain', 'acme.com', '--provider', 'okta'], 'umbral: --provider must be google or microsoft, not "okta"'],
      ] as const) {
        const result = await runUmbral(['domains', 'add', ...args], { env: store().env });
        t.is(result.code, 1, args.join(' '));
        t.is(result.stdout, '');
        t.is(ownStderr(result).trim(), message);
      }
      t.deepEqual(await routes(store()), []);
      const usage = await runUmbral(['domains', 'add', '--domain', 'acme.com'], { env: store().env });
      t.is(usage.code, 2);
      t.regex(ownStderr(usage), /"domains add" needs --provider/);
      const unknown = await runUmbral(['domains', 'frobnicate'], { env: store().env });
      t.is(unknown.code, 2);
    },
  );
}
