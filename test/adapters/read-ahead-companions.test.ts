import test from 'ava';
import { modelRowReader, takeReadAhead } from '../../adapters/model-lookups.ts';
import { createAdapterClass } from '../../adapters/postgres-adapter.ts';
import { ORGANIZATION_GRANT_READ_AHEAD, OrganizationGrants } from '../../src/organizations/organization-grants.ts';
import type { FoundRow } from '../../src/storage/oidc-model-rows.ts';
import { createFindAccount, USER_CLAIMS_READ_AHEAD } from '../../src/users/user-claims.ts';
import { UserRepository } from '../../src/users/users.ts';
import { STORES, storageForTest } from '../support/stores.ts';

for (const kind of STORES) {
  test.serial(
    `[${kind}] a token is read with its account's claims and its grant's organization, each taken once and fresh on every read`,
    async (t) => {
      const { db } = await storageForTest(t, kind);
      // One request's read-ahead, as src/provider/batched-writes.ts keeps it while the request runs.
      let ahead = new Map<string, FoundRow>();
      const Adapter = createAdapterClass(db, {
        refreshTokenReuseGraceSeconds: 5,
        clientCacheSeconds: 0,
        batchedWrites: { pending: () => undefined, readAhead: () => ahead },
        readAheadCompanions: [USER_CLAIMS_READ_AHEAD, ORGANIZATION_GRANT_READ_AHEAD],
      });
      const take = (model: string, id: string) => takeReadAhead(ahead, model, id);
      const users = new UserRepository(db);
      const ana = await users.create({ email: 'ana@example.com', name: 'Ana', emailVerified: true });
      const bob = await users.create({ email: 'bob@example.com', name: 'Bob' });
      await db
        .insertInto('organizations')
        .values({ id: 'org-1', slug: 'acme', name: 'Acme', activates_at: new Date() } as never)
        .execute();
      const grants = new OrganizationGrants(db, take);
      const expiresAt = new Date(Date.now() + 60_000);
      await grants.bind({
        grantId: 'g-ana',
        organizationId: 'org-1',
        accountId: ana.id,
        clientId: 'portal',
        expiresAt,
      });
      const refresh = new Adapter('RefreshToken');
      await refresh.upsert('r-ana', { grantId: 'g-ana', accountId: ana.id }, 60);
      await refresh.upsert('r-bob', { grantId: 'g-bob', accountId: bob.id }, 60);
      const findAccount = createFindAccount(users, take);
      const queries: string[] = [];
      const counted = async <T>(work: () => Promise<T>) => {
        const before = queries.length;
        const result = await work();
        return { result, statements: queries.length - before };
      };
      // Every statement the stores run goes through Kysely's executeQuery (the raw texts too).
      const original = db.executeQuery.bind(db);
      db.executeQuery = ((query: Parameters<typeof original>[0]) => {
        queries.push(String((query as { sql?: string }).sql));
        return original(query);
      }) as typeof db.executeQuery;
      t.teardown(() => {
        db.executeQuery = original;
      });

      const read = await counted(() => refresh.find('r-ana'));
      t.is(read.result?.accountId, ana.id);
      const account = await counted(async () =>
        (await findAccount({} as never, ana.id))?.claims('id_token', 'openid', {}, []),
      );
      t.like(account.result, { sub: ana.id, name: 'Ana', email: 'ana@example.com', email_verified: true });
      t.is(typeof account.result?.updated_at, 'number', 'the time, read as jsonb text, is a Date again');
      const organization = await counted(() => grants.find('g-ana'));
      t.like(organization.result, { grantId: 'g-ana', organizationId: 'org-1', accountId: ana.id, clientId: 'portal' });
      t.deepEqual([account.statements, organization.statements], [0, 0], 'both came with the token');
      t.is((await counted(() => grants.find('g-ana'))).statements, 1, 'taken once: a second find reads the table');

      // A grant without an organization is known to have none, without another statement.
      await refresh.find('r-bob');
      const none = await counted(() => grants.find('g-bob'));
      t.deepEqual([none.result, none.statements], [undefined, 0]);

      // The next request reads afresh: a changed name and a disabled account are seen at once.
      ahead = new Map();
      await db.updateTable('users').set({ name: 'Ana María', disabled: true }).where('id', '=', ana.id).execute();
      await refresh.find('r-ana');
      t.is(await findAccount({} as never, ana.id), undefined, 'disabled: treated as gone');
      await db.updateTable('users').set({ disabled: false }).where('id', '=', ana.id).execute();
      ahead = new Map();
      await refresh.find('r-ana');
      t.like(await (await findAccount({} as never, ana.id))?.claims('id_token', 'openid', {}, []), {
        name: 'Ana María',
      });

      // Another account than the token's is not in the read-ahead: it is read from the table.
      ahead = new Map();
      await refresh.find('r-ana');
      const other = await counted(async () => findAccount({} as never, bob.id));
      t.deepEqual([other.result?.accountId, other.statements], [bob.id, 1]);
    },
  );
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] two tokens read in one statement that name the same grant and account give each request its own copy`,
    async (t) => {
      const { db } = await storageForTest(t, kind);
      const Adapter = createAdapterClass(db, { refreshTokenReuseGraceSeconds: 5, clientCacheSeconds: 0 });
      const ana = await new UserRepository(db).create({ email: 'ana@example.com', name: 'Ana' });
      await new Adapter('Grant').upsert('g-ana', { accountId: ana.id, openid: { scope: 'openid' } }, 60);
      const refresh = new Adapter('RefreshToken');
      await refresh.upsert('r-1', { grantId: 'g-ana', accountId: ana.id }, 60);
      await refresh.upsert('r-2', { grantId: 'g-ana', accountId: ana.id }, 60);
      // Two requests' read-aheads; each find takes the one current when it starts, as a request's does.
      const first = new Map<string, FoundRow>();
      const second = new Map<string, FoundRow>();
      let current = first;
      const reader = modelRowReader(db, () => current, [USER_CLAIMS_READ_AHEAD]);
      const one = reader.byId('RefreshToken', 'r-1');
      current = second;
      const two = reader.byId('RefreshToken', 'r-2');
      t.deepEqual([(await one)?.id, (await two)?.id], ['r-1', 'r-2']);
      for (const model of ['Grant', 'UserClaims']) {
        const id = model === 'Grant' ? 'g-ana' : ana.id;
        const [a, b] = [takeReadAhead(first, model, id), takeReadAhead(second, model, id)];
        t.truthy(a && b, `${model}: read ahead for both requests`);
        t.deepEqual(a, b, `${model}: the same row`);
        t.not(a?.payload, b?.payload, `${model}: not the same payload object`);
      }
    },
  );
}
