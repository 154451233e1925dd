import test from 'ava';
import { verifyPassword } from '../../src/users/password-hasher.ts';
import { MIN_PASSWORD_LENGTH } from '../../src/users/password-policy.ts';
import { createTestStore, STORES, type TestStore } from '../support/stores.ts';
import { inStore, runUmbral } from './umbral-cli.ts';

// One store per kind, shared by this file's serial tests: every CLI run costs a process and a database open.
const stores = new Map<string, TestStore>();

test.before(async () => {
  for (const kind of STORES) stores.set(kind, await createTestStore(kind));
});

test.after.always(async () => {
  for (const store of stores.values()) await store.cleanup();
});

function userByEmail(store: TestStore, email: string) {
  return inStore(store, (db) => db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst());
}

for (const kind of STORES) {
  const env = () => stores.get(kind)!.env;

  test.serial(
    `[${kind}] users add and list show users without password hashes; emails are unique in any case`,
    async (t) => {
      const added = await runUmbral(
        [
          'users',
          'add',
          '--email',
          'ana@example.com',
          '--password',
          'correct horse battery',
          '--name',
          'Ana Ruiz',
          '--phone',
          '+5215512345678',
          '--verified',
        ],
        { env: env() },
      );
      t.is(added.code, 0, added.stderr);
      const user = JSON.parse(added.stdout) as Record<string, unknown>;
      t.like(user, {
        email: 'ana@example.com',
        email_verified: true,
        name: 'Ana Ruiz',
        phone: '+5215512345678',
        has_password: true,
      });
      t.false('password_hash' in user);
      t.false(added.stdout.includes('argon2'));

      const duplicate = await runUmbral(
        ['users', 'add', '--email', 'ANA@Example.COM', '--password', 'another password'],
        { env: env() },
      );
      t.is(duplicate.code, 1);
      t.is(duplicate.stdout, '');
      t.is(duplicate.stderr.trim(), 'umbral: a user with email ANA@Example.COM already exists');

      const listed = await runUmbral(['users', 'list'], { env: env() });
      t.is(listed.code, 0, listed.stderr);
      const users = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
      t.deepEqual(
        users.filter((u) => String(u['email']).toLowerCase() === 'ana@example.com').map((u) => u['id']),
        [user['id']],
      );
      t.true(users.every((u) => !('password_hash' in u)));
      t.false(listed.stdout.includes('argon2'));
    },
  );

  test.serial(`[${kind}] users add refuses a short password and creates no user`, async (t) => {
    const result = await runUmbral(['users', 'add', '--email', 'bo@example.com', '--password', 'short'], {
      env: env(),
    });
    t.is(result.code, 1);
    t.is(result.stderr.trim(), `umbral: The password must be at least ${MIN_PASSWORD_LENGTH} characters.`);
    t.is(result.stdout, '');
    t.is(await userByEmail(stores.get(kind)!, 'bo@example.com'), undefined);
  });

  test.serial(
    `[${kind}] users add refuses a password based on a common one, the product name or the email`,
    async (t) => {
      for (const [password, message] of [
        ['qwerty2026!', /common one with numbers, symbols or swapped letters/],
        ['Umbral2026', /must not be the name Umbral/],
        ['PRODUCT-2026', /must not be the name Product,/],
        ['bo.perez2026', /must not contain your email address/],
      ] as const) {
        const result = await runUmbral(['users', 'add', '--email', 'bo.perez@example.com', '--password', password], {
          env: { ...env(), PRODUCT_NAME: password === 'PRODUCT-2026' ? 'Product' : 'Umbral' },
        });
        t.is(result.code, 1, password);
        t.regex(result.stderr, message, password);
      }
      t.is(await userByEmail(stores.get(kind)!, 'bo.perez@example.com'), undefined);
    },
  );

  test.serial(`[${kind}] users add --password-stdin reads the first line of stdin and needs one`, async (t) => {
    const result = await runUmbral(['users', 'add', '--email', 'cy@example.com', '--password-stdin'], {
      env: env(),
      stdin: 'piped pass phrase\nsecond line is ignored\n',
    });
    t.is(result.code, 0, result.stderr);
    const stored = await userByEmail(stores.get(kind)!, 'cy@example.com');
    t.true(await verifyPassword(stored?.password_hash, 'piped pass phrase'));

    const empty = await runUmbral(['users', 'add', '--email', 'dee@example.com', '--password-stdin'], {
      env: env(),
      stdin: '',
    });
    t.is(empty.code, 1);
    t.is(empty.stderr.trim(), 'umbral: --password-stdin: stdin ended before a password was read');
  });
}
