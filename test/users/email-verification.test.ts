import test from 'ava';
import { hashOpaqueToken } from '../../src/users/account-tokens.ts';
import { EmailVerifications, SIGNUP_DECOY_PURPOSE, VERIFY_EMAIL_PURPOSE } from '../../src/users/email-verification.ts';
import { UserRepository } from '../../src/users/users.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

for (const kind of STORES) {
  test.serial(
    `[${kind}] verifications: hashed, single use, one live at a time, decoys never verify, sends limited`,
    async (t) => {
      const store = await createTestStore(kind);
      const storage = await openTestStorage(store);
      t.teardown(async () => {
        await storage.close();
        await store.cleanup();
      });
      let now = Date.now();
      const verifications = new EmailVerifications(storage.db, undefined, () => now);
      const users = new UserRepository(storage.db);
      const ana = await users.create({ email: 'ana@example.com', password: 'correct horse battery' });
      const data = { email: 'ana@example.com', reason: 'signup' as const, sent: true, uid: 'u1' };

      const first = await verifications.issue(ana.id, VERIFY_EMAIL_PURPOSE, data);
      t.true(Buffer.from(first.token, 'base64url').length >= 16, 'token of at least 128 bits');
      t.regex(first.code, /^\d{6}$/);
      const row = await storage.db
        .selectFrom('account_tokens')
        .selectAll()
        .where('id', '=', first.verification.id)
        .executeTakeFirstOrThrow();
      t.is(row.token_hash, hashOpaqueToken(first.token));
      t.false(JSON.stringify(row).includes(first.token));
      t.false(row.code_hash!.includes(first.code));
      t.deepEqual(await verifications.sendAllowance(ana.id), { allowed: false, retryAfterSeconds: 60 });

      now += 61_000;
      t.deepEqual(await verifications.sendAllowance(ana.id), { allowed: true });
      const second = await verifications.issue(ana.id, VERIFY_EMAIL_PURPOSE, data);
      t.deepEqual(
        await verifications.checkCode(first.verification.id, first.code),
        { outcome: 'gone' },
        'a new code kills the old',
      );
      t.is(await verifications.confirmLink(first.token), undefined, 'and its link');

      const wrong = second.code === '000000' ? '000001' : '000000';
      t.is((await verifications.checkCode(second.verification.id, wrong)).outcome, 'wrong');
      const verified = await verifications.checkCode(second.verification.id, second.code);
      t.is(verified.outcome, 'verified');
      t.true((await users.findById(ana.id))!.email_verified);
      t.is((await verifications.checkCode(second.verification.id, second.code)).outcome, 'gone', 'single use');
      t.is(await verifications.confirmLink(second.token), undefined, 'the link is used up with the code');

      // A decoy has a code nobody knows, and no link.
      const beto = await users.create({
        email: 'beto@example.com',
        password: 'correct horse battery',
        emailVerified: true,
      });
      const decoy = await verifications.issue(beto.id, SIGNUP_DECOY_PURPOSE, { ...data, email: 'beto@example.com' });
      t.is((await verifications.checkCode(decoy.verification.id, decoy.code)).outcome, 'wrong');
      t.is(await verifications.findByToken(decoy.token), undefined);

      // Codes last 15 minutes, links 24 hours.
      now += 61_000;
      const third = await verifications.issue(ana.id, VERIFY_EMAIL_PURPOSE, data);
      now += 15 * 60_000 + 1000;
      t.is((await verifications.checkCode(third.verification.id, third.code)).outcome, 'expired');
      now += 24 * 60 * 60_000;
      t.is(await verifications.confirmLink(third.token), undefined);
    },
  );
}
