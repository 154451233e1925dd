import test from 'ava';
import { SmsCodes } from '../../src/mfa/sms/sms-codes.ts';
import { UserRepository } from '../../src/users/users.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

const PHONE = '+525512345678';
const MINUTE = 60_000;

for (const kind of STORES) {
  test.serial(
    `[${kind}] SMS codes: 10 minutes, single use, five attempts per challenge that a resend does not reset, sends rate-limited`,
    async (t) => {
      const store = await createTestStore(kind);
      const storage = await openTestStorage(store);
      t.teardown(async () => {
        await storage.close();
        await store.cleanup();
      });
      const user = await new UserRepository(storage.db).create({ email: 'ana@example.com' });
      let now = Date.parse('2026-01-01T12:00:00Z');
      const codes = new SmsCodes(storage.db, undefined, () => now);

      const first = await codes.issue(user.id, 'login', PHONE);
      if (!first.allowed) return t.fail('first send refused');
      t.regex(first.code, /^\d{6}$/);
      t.like(await codes.issue(user.id, 'login', PHONE), { allowed: false, reason: 'wait' }, 'no resend within 30 s');

      // Expired after 10 minutes; a resend makes a fresh code.
      now += 10 * MINUTE;
      t.is(await codes.check(user.id, 'login', PHONE, first.code), 'expired');
      const second = await codes.issue(user.id, 'login', PHONE);
      if (!second.allowed) return t.fail('resend refused');
      t.is(second.challengeId, first.challengeId, 'the same challenge');
      t.is(
        await codes.check(user.id, 'login', PHONE, first.code === second.code ? '999999' : first.code),
        'wrong',
        'the old code is dead',
      );
      for (let i = 0; i < 3; i++) t.is(await codes.check(user.id, 'login', PHONE, 'nope'), 'wrong');
      now += MINUTE;
      const third = await codes.issue(user.id, 'login', PHONE);
      if (!third.allowed) return t.fail('resend refused');
      // 4 attempts used; the resend did not reset them: one wrong code and the challenge is spent.
      t.is(await codes.check(user.id, 'login', PHONE, '000000' === third.code ? '111111' : '000000'), 'exhausted');
      t.is(await codes.check(user.id, 'login', PHONE, third.code), 'exhausted', 'even the right code, once exhausted');
      t.like(await codes.issue(user.id, 'login', PHONE), { allowed: false, reason: 'exhausted' });

      // After the challenge's 30 minutes, a new one; the right code works once.
      now += 30 * MINUTE;
      const fresh = await codes.issue(user.id, 'enroll', PHONE);
      if (!fresh.allowed) return t.fail('fresh challenge refused');
      t.is(
        await codes.check(user.id, 'enroll', PHONE, ` ${fresh.code.slice(0, 3)}-${fresh.code.slice(3)} `),
        'verified',
      );
      t.is(await codes.check(user.id, 'enroll', PHONE, fresh.code), 'none', 'single use');
      t.is(await codes.check(user.id, 'login', '+5215500000000', fresh.code), 'none', 'bound to its phone and purpose');
    },
  );

  test.serial(`[${kind}] at most five SMS per user per hour, whatever the purpose`, async (t) => {
    const store = await createTestStore(kind);
    const storage = await openTestStorage(store);
    t.teardown(async () => {
      await storage.close();
      await store.cleanup();
    });
    const user = await new UserRepository(storage.db).create({ email: 'bea@example.com' });
    let now = Date.parse('2026-01-01T12:00:00Z');
    const codes = new SmsCodes(storage.db, undefined, () => now);
    for (let i = 0; i < 5; i++) {
      t.true((await codes.issue(user.id, i % 2 ? 'login' : 'enroll', PHONE)).allowed, `send ${i + 1}`);
      now += MINUTE;
    }
    const refused = await codes.issue(user.id, 'login', PHONE);
    t.like(refused, { allowed: false, reason: 'wait' });
    now += 60 * MINUTE;
    t.true((await codes.issue(user.id, 'login', PHONE)).allowed, 'an hour later');
  });
}
