import { createHash } from 'node:crypto';
import test from 'ava';
import { COMMAND_STORES, createTestStore, type TestStore } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';
import { inStore, ownStderr, runUmbral } from './umbral-cli.ts';

const stores = new Map<string, TestStore>();

test.before(async () => {
  for (const kind of COMMAND_STORES) stores.set(kind, await createTestStore(kind));
});

test.after.always(async () => {
  for (const store of stores.values()) await store.cleanup();
});

const storedTokens = (store: TestStore) =>
  inStore(store, (db) =>
    db
      .selectFrom('oidc_models')
      .select(['id', 'payload', 'expires_at'])
      .where('model', '=', 'InitialAccessToken')
      .execute(),
  );

for (const kind of COMMAND_STORES) {
  const store = () => stores.get(kind)!;

  test.serial(`[${kind}] clients registration-token refuses a bad --expires-in and stores nothing`, async (t) => {
    const refusals: Array<[string, string]> = [
      ['1w', 'umbral: --expires-in "1w" is not a duration: write a number and m, h or d (30m, 12h, 7d)'],
      ['0d', 'umbral: --expires-in "0d" is not a duration: write a number and m, h or d (30m, 12h, 7d)'],
      ['1.5h', 'umbral: --expires-in "1.5h" is not a duration: write a number and m, h or d (30m, 12h, 7d)'],
      ['soon', 'umbral: --expires-in "soon" is not a duration: write a number and m, h or d (30m, 12h, 7d)'],
      ['31d', 'umbral: --expires-in 31d is too long: at most 30d'],
    ];
    for (const [value, message] of refusals) {
      const result = await runUmbral(['clients', 'registration-token', '--expires-in', value], {
        env: { ...store().env, CLIENT_REGISTRATION: 'token' },
      });
      t.is(result.code, 1, value);
      t.is(result.stdout, '', value);
      t.is(ownStderr(result).trim(), message);
    }
    const open = await runUmbral(['clients', 'registration-token'], {
      env: { ...store().env, CLIENT_REGISTRATION: 'open' },
    });
    t.is(open.code, 1);
    t.is(
      ownStderr(open).trim(),
      'umbral: CLIENT_REGISTRATION=open lets anyone register: it takes no initial access token',
    );
    t.deepEqual(await storedTokens(store()), []);
  });

  test.serial(
    `[${kind}] clients registration-token prints a single-use token once, stores its hash, and the server takes it`,
    async (t) => {
      const before = Date.now();
      const result = await runUmbral(['clients', 'registration-token', '--expires-in', '12h'], {
        env: { ...store().env, CLIENT_REGISTRATION: 'token' },
      });
      t.is(result.code, 0, result.stderr);
      t.is(ownStderr(result).trim(), '');
      const printed = JSON.parse(result.stdout) as {
        initial_access_token: string;
        id: string;
        expires_at: string;
        single_use: boolean;
      };
      t.regex(printed.initial_access_token, /^[A-Za-z0-9_-]{43}$/);
      t.is(printed.id, createHash('sha256').update(printed.initial_access_token).digest('hex'));
      t.true(printed.single_use);
      const expiresAt = Date.parse(printed.expires_at);
      t.true(Math.abs(expiresAt - (before + 12 * 60 * 60 * 1000)) < 60_000, printed.expires_at);

      const [row, ...others] = await storedTokens(store());
      t.deepEqual(others, []);
      t.is(row!.id, printed.id);
      t.false(JSON.stringify(row!.payload).includes(printed.initial_access_token), 'only the hash is stored');
      t.true(Math.abs(row!.expires_at!.getTime() - expiresAt) < 2000);

      const server = await startUmbral(store(), { CLIENT_REGISTRATION: 'token' });
      try {
        const register = () =>
          fetch(`${server.issuer}/reg`, {
            method: 'POST',
            headers: { authorization: `Bearer ${printed.initial_access_token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ redirect_uris: ['https://partner.example/cb'] }),
          });
        t.is((await register()).status, 201);
        t.is((await register()).status, 401, 'single use');
      } finally {
        await server.stop();
      }

      const off = await runUmbral(['clients', 'registration-token'], { env: store().env });
      t.is(off.code, 0, off.stderr);
      t.is(
        ownStderr(off).trim(),
        'note: the server takes this token once it runs with CLIENT_REGISTRATION=token (now off)',
      );
      t.regex(JSON.parse(off.stdout).expires_at, /^\d{4}-/);
    },
  );
}
