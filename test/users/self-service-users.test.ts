import test from 'ava';
import { requiresEmailVerification } from '../../src/users/email-verification.ts';
import { SelfServiceUsers } from '../../src/users/self-service-users.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

for (const kind of STORES) {
  test.serial(
    `[${kind}] self-service accounts record the terms, and an unvouched email holds logins back`,
    async (t) => {
      const store = await createTestStore(kind);
      const storage = await openTestStorage(store);
      t.teardown(async () => {
        await storage.close();
        await store.cleanup();
      });
      const users = new SelfServiceUsers(storage.db, '2024-01');

      const ana = await users.create({
        email: 'Ana@example.com',
        name: 'Ana',
        phone: '+5215512345678',
        passwordHash: 'hash',
        emailVerified: false,
        locale: 'es',
      });
      t.truthy(ana);
      t.like(ana, { email: 'Ana@example.com', email_verified: false, phone: '+5215512345678', password_hash: 'hash' });
      t.is(ana!.terms_version, '2024-01');
      t.truthy(ana!.terms_accepted_at);
      t.truthy(ana!.password_changed_at, 'a password set at sign-up has an age');
      t.true(requiresEmailVerification(ana!));

      const beto = await users.create({ email: 'beto@example.com', name: 'Beto', emailVerified: true, locale: 'en' });
      t.like(beto, { email_verified: true, phone: null, password_hash: null, password_changed_at: null, locale: 'en' });
      t.false(requiresEmailVerification(beto!));

      t.is(
        await users.create({ email: 'ana@EXAMPLE.com', name: 'Otra', emailVerified: false, locale: 'es' }),
        undefined,
        'an email that has an account, in any case, creates nothing',
      );
    },
  );
}
