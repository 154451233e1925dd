import test, { type ExecutionContext } from 'ava';
import { createLogger } from '../../src/logging/logger.ts';
import type { Mailer, OutgoingEmail } from '../../src/notify/mailer.ts';
import { AccountLockout, LOCKOUT_THRESHOLD } from '../../src/throttling/account-lockout.ts';
import { LockoutResetStep } from '../../src/throttling/lockout-reset-step.ts';
import { UNLOCK_MAILS_PER_DAY, UNLOCK_TOKEN_TTL_MS, UnlockLinks } from '../../src/throttling/unlock-links.ts';
import { UserRepository } from '../../src/users/users.ts';
import { createTestStore, openTestStorage, STORES, type StoreKind } from '../support/stores.ts';

// The lockout's counter and links on each database, with a test clock; the hosted pages are
// covered in test/interactions/login-lockout.test.ts. The counter lives in the database whatever
// REDIS_URL says: Redis may be absent or wiped, and this count must survive both.
const ISSUER = 'https://id.example.com';
const HOUR = 60 * 60 * 1000;

async function setup(t: ExecutionContext, kind: StoreKind) {
  const store = await createTestStore(kind);
  t.teardown(() => store.cleanup());
  const storage = await openTestStorage(store);
  t.teardown(() => storage.close());
  const clock = { now: Date.now() };
  const now = () => clock.now;
  const sent: OutgoingEmail[] = [];
  const mailer: Mailer = { enqueue: async (email) => void sent.push(email) };
  const logger = createLogger('silent');
  const links = new UnlockLinks({ db: storage.db, mailer, logger, issuer: ISSUER, now });
  const lockout = new AccountLockout({ db: storage.db, links, logger, now });
  const users = new UserRepository(storage.db);
  const ana = await users.create({ email: 'ana@example.com', password: 'correct horse battery' });
  const account = { id: ana.id, email: ana.email, locale: 'pt-BR' };
  /** Takes the count to one short of the cap without a hundred statements. */
  const nearCap = () =>
    storage.db
      .insertInto('login_lockouts')
      .values({ user_id: ana.id, failures: LOCKOUT_THRESHOLD - 1, last_failure_at: new Date(clock.now) })
      .execute();
  const tokenOf = (mail: OutgoingEmail) => new URL(String(mail.data['unlockUrl'])).searchParams.get('token')!;
  return { storage, clock, sent, links, lockout, users, ana, account, nearCap, tokenOf };
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] wrong passwords count per account up to the cap; unknown emails are never counted`,
    async (t) => {
      const { storage, lockout, account, ana, sent } = await setup(t, kind);
      t.is(await lockout.recordFailure(account, 'es'), 'open');
      t.is(await lockout.recordFailure(account, 'es'), 'open');
      t.is(await lockout.failures(ana.id), 2);
      t.is(await lockout.recordFailure(undefined, 'es'), 'open');
      t.is((await storage.db.selectFrom('login_lockouts').selectAll().execute()).length, 1);
      for (let i = 2; i < LOCKOUT_THRESHOLD - 1; i++) await lockout.recordFailure(account, 'es');
      t.false(await lockout.isLocked(account, 'es'), `${LOCKOUT_THRESHOLD - 1} is not yet the cap`);
      t.is(await lockout.recordFailure(account, 'es'), 'locked');
      t.true(await lockout.isLocked(account, 'es'));
      t.is(sent.length, 1);
      t.like(sent[0], { to: 'ana@example.com', template: 'unlock-login', locale: 'pt-BR' }, "the owner's language");
      t.true(String(sent[0]!.data['unlockUrl']).startsWith(`${ISSUER}/unlock?token=`));
      await lockout.reset(ana.id);
      t.is(await lockout.failures(ana.id), 0);
      t.false(await lockout.isLocked(account, 'es'));
    },
  );

  test.serial(`[${kind}] failures at the cap from many processes at once mail the owner once`, async (t) => {
    const { storage, lockout, links, account, ana, sent, nearCap } = await setup(t, kind);
    await nearCap();
    // A second process: its own objects over the same database.
    const logger = createLogger('silent');
    const other = new AccountLockout({ db: storage.db, links, logger });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? lockout : other).recordFailure(account, 'es')),
    );
    t.true(results.every((result) => result === 'locked'));
    t.is(await lockout.failures(ana.id), LOCKOUT_THRESHOLD + 9, 'no failure lost');
    t.true(await other.isLocked(account, 'es'));
    t.is(sent.length, 1);
  });

  test.serial(
    `[${kind}] an unlock link works once, in its 24 hours; a lock outliving it mails a new one`,
    async (t) => {
      const { clock, lockout, links, account, ana, sent, nearCap, tokenOf } = await setup(t, kind);
      await nearCap();
      await lockout.recordFailure(account, 'es');
      const first = tokenOf(sent[0]!);
      t.deepEqual(await links.find(first), { email: 'ana@example.com' });
      t.is(await lockout.unlock('not-a-token'), undefined);
      t.true(await lockout.isLocked(account, 'es'), 'a bad token changes nothing');

      clock.now += UNLOCK_TOKEN_TTL_MS - 1000;
      t.true(await lockout.isLocked(account, 'es'));
      t.is(sent.length, 1, 'no new mail while the link works');
      clock.now += 2000;
      t.is(await links.find(first), undefined, 'expired');
      t.is(await lockout.unlock(first), undefined);
      t.true(await lockout.isLocked(account, 'es'), 'still locked: this attempt mails a new link');
      t.is(sent.length, 2);
      const second = tokenOf(sent[1]!);

      t.is(await lockout.unlock(second), ana.id);
      t.is(await lockout.failures(ana.id), 0);
      t.false(await lockout.isLocked(account, 'es'));
      t.is(await lockout.unlock(second), undefined, 'single use');
    },
  );

  test.serial(
    `[${kind}] an account re-locked over and over gets at most ${UNLOCK_MAILS_PER_DAY} unlock mails a day`,
    async (t) => {
      const { clock, lockout, account, ana, sent, nearCap, tokenOf } = await setup(t, kind);
      for (let lock = 0; lock < UNLOCK_MAILS_PER_DAY + 2; lock++) {
        await nearCap();
        t.is(await lockout.recordFailure(account, 'es'), 'locked');
        const mail = sent[lock];
        if (mail) await lockout.unlock(tokenOf(mail));
        else await lockout.reset(ana.id);
        clock.now += HOUR;
      }
      t.is(sent.length, UNLOCK_MAILS_PER_DAY);
      clock.now += 24 * HOUR;
      await nearCap();
      await lockout.recordFailure(account, 'es');
      t.is(sent.length, UNLOCK_MAILS_PER_DAY + 1, 'a day later the allowance is back');
    },
  );

  test.serial(`[${kind}] a disabled account's link does not unlock`, async (t) => {
    const { storage, lockout, account, ana, sent, nearCap, tokenOf } = await setup(t, kind);
    await nearCap();
    await lockout.recordFailure(account, 'es');
    await storage.db.updateTable('users').set({ disabled: true }).where('id', '=', ana.id).execute();
    t.is(await lockout.unlock(tokenOf(sent[0]!)), undefined);
    t.is(await lockout.failures(ana.id), LOCKOUT_THRESHOLD);
  });

  test.serial(`[${kind}] a finished sign-in of any kind (passkey, federation) resets the count`, async (t) => {
    const { lockout, account, ana, nearCap } = await setup(t, kind);
    await nearCap();
    await lockout.recordFailure(account, 'es');
    const step = new LockoutResetStep(lockout);
    const login = { accountId: ana.id, amr: ['hwk', 'mfa'], acr: 'urn:umbral:acr:mfa' };
    t.deepEqual(await step.enter({} as never, {} as never, login), login, 'the login passes on unchanged');
    t.is(await lockout.failures(ana.id), 0);
  });
}
