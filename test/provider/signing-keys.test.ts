import { randomBytes } from 'node:crypto';
import test from 'ava';
import { decodeProtectedHeader } from 'jose';
import { RETIRED_KEY_PUBLISH_SECONDS } from '../../src/provider/configuration.ts';
import { loadSigningKeys, rotateSigningKeys } from '../../src/provider/signing-keys.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, STORES } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

/** The box the server seals its keys with (the same key as the MFA secrets). */
const secretBoxOf = (server: RunningUmbral) => server.umbral.mfa.secretBox;

for (const kind of STORES) {
  test.serial(
    `[${kind}] rotation signs with the new key after restart and keeps the old one published until its tokens expire`,
    async (t) => {
      const store = await createTestStore(kind);
      t.teardown(() => store.cleanup());
      const first = await startUmbral(store);
      const port = new URL(first.issuer).port;
      const client = await first.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
      await first.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
      const rp = await RelyingParty.discover(first.issuer, 'portal', client.client_secret, REDIRECT);
      const login = await rp.signIn(new HttpBrowser(), 'ana@example.com', 'correct horse battery');
      const oldKid = decodeProtectedHeader((await rp.exchange(login.callback.url, login.request)).id_token!).kid;

      const { added, retired } = await rotateSigningKeys(
        first.umbral.storage.db,
        secretBoxOf(first),
        RETIRED_KEY_PUBLISH_SECONDS,
      );
      t.is(added.length, 4, 'one per alg: RS256, PS256, ES256, EdDSA');
      t.true(retired.includes(oldKid!));
      await first.stop();

      const second = await startUmbral(store, { PORT: port });
      t.teardown(() => second.stop());
      const jwks = (await (await fetch(`${second.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
      t.deepEqual(jwks.keys.map((k) => k.kid).sort(), [...added, ...retired].sort(), 'old and new keys published');
      const login2 = await rp.signIn(new HttpBrowser(), 'ana@example.com', 'correct horse battery');
      const newKid = decodeProtectedHeader((await rp.exchange(login2.callback.url, login2.request)).id_token!).kid;
      t.true(added.includes(newKid!), 'signs with the new key');

      // Once everything the old keys signed has expired, they are no longer published.
      await second.umbral.storage.db
        .updateTable('signing_keys')
        .set({ unpublish_at: new Date(Date.now() - 1000) })
        .where('kid', 'in', retired)
        .execute();
      const published = (await loadSigningKeys(second.umbral.storage.db, secretBoxOf(second))).map((k) => k.kid);
      t.deepEqual(published.sort(), [...added].sort());
    },
  );
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] private signing keys are stored sealed; plain ones are sealed on load; another key refuses to start`,
    async (t) => {
      const store = await createTestStore(kind);
      t.teardown(() => store.cleanup());
      const key = randomBytes(32).toString('base64');
      const first = await startUmbral(store, { SECRET_ENCRYPTION_KEY: key });
      const rows = await first.umbral.storage.db.selectFrom('signing_keys').select(['kid', 'private_jwk']).execute();
      t.is(rows.length, 4);
      for (const row of rows) {
        const stored = row.private_jwk as Record<string, unknown>;
        t.deepEqual(Object.keys(stored), ['sealed']);
        t.false(JSON.stringify(stored).includes('"d"'), 'no private key material in the clear');
      }

      // A key stored before sealing (a plain JWK) still signs, and is sealed the next time keys load.
      const [legacy] = await loadSigningKeys(first.umbral.storage.db, secretBoxOf(first));
      await first.umbral.storage.db
        .updateTable('signing_keys')
        .set({ private_jwk: JSON.stringify(legacy) })
        .where('kid', '=', legacy!.kid!)
        .execute();
      const reloaded = await loadSigningKeys(first.umbral.storage.db, secretBoxOf(first));
      t.true(reloaded.some((k) => k.kid === legacy!.kid && k.d === legacy!.d));
      const resealed = await first.umbral.storage.db
        .selectFrom('signing_keys')
        .select('private_jwk')
        .where('kid', '=', legacy!.kid!)
        .executeTakeFirstOrThrow();
      t.deepEqual(Object.keys(resealed.private_jwk as object), ['sealed']);
      await first.stop();

      // Another SECRET_ENCRYPTION_KEY cannot open them: start-up stops with a clear error, changing nothing.
      const error = await t.throwsAsync(
        startUmbral(store, { SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64') }),
      );
      t.regex(error!.message, /sealed with another key/);
    },
  );
}
