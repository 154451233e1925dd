import { randomBytes } from 'node:crypto';
import test from 'ava';
import { FactorRepository } from '../../src/mfa/factor-repository.ts';
import { UserRepository } from '../../src/users/users.ts';
import { createTestStore, openTestStorage, STORES } from '../support/stores.ts';

// The passkey journey runs in Chromium on CI's store (test/browser/mfa-passkeys.test.ts); what the
// stores themselves do with a passkey (its key bytes, transports and signature counter) runs here on both.
for (const kind of STORES) {
  test(`[${kind}] a passkey is stored and read back byte for byte, and its counter only moves forward`, async (t) => {
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const storage = await openTestStorage(store);
    t.teardown(() => storage.close());
    const user = await new UserRepository(storage.db).create({ email: 'ana@example.com', emailVerified: true });
    const factors = new FactorRepository(storage.db);
    const publicKey = new Uint8Array(randomBytes(77));
    const credentialId = randomBytes(32).toString('base64url');
    const added = await factors.addPasskey(user.id, {
      label: 'Llave de Ana',
      credentialId,
      publicKey,
      signCount: 0,
      transports: ['internal', 'hybrid'],
      deviceType: 'multiDevice',
      backedUp: false,
    });

    const found = await factors.passkeyByCredentialId(credentialId);
    t.truthy(found);
    t.is(found?.id, added.id);
    t.deepEqual(found?.publicKey, publicKey);
    t.deepEqual(found?.transports, ['internal', 'hybrid']);
    t.is(found?.deviceType, 'multiDevice');
    t.deepEqual(
      (await factors.passkeys(user.id)).map((p) => p.credentialId),
      [credentialId],
    );
    t.is(await factors.passkeyByCredentialId(randomBytes(32).toString('base64url')), undefined);

    t.true(await factors.recordPasskeyUse(added.id, 0, 5, true));
    t.false(await factors.recordPasskeyUse(added.id, 0, 6, true), 'a use raced ahead: the stale count does not win');
    const after = await factors.passkeyByCredentialId(credentialId);
    t.is(after?.signCount, 5);
    t.true(after?.backedUp);
  });
}
