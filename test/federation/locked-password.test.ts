import test from 'ava';
import { LOCKOUT_THRESHOLD } from '../../src/throttling/account-lockout.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { federationWorlds, PASSWORD } from './federation-world.ts';
import { isAt, signInWith } from './flow-helpers.ts';

const federationWorld = federationWorlds(test);

// A locked password sign-in (src/throttling/account-lockout.ts) locks only the password: Google
// still signs the owner in, and that sign-in resets the count. Passkeys take the same way through
// the pipeline (their step never asks the lockout; the reset step is the same).
for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] a locked password does not lock Google out, and a Google sign-in lifts the lock`,
    async (t) => {
      const world = await federationWorld(kind);
      const { server, google, rp } = world;
      const ana = await server.users.create({ email: 'ana@empresa.example', password: PASSWORD, emailVerified: true });
      const account = google.addAccount({ email: 'ana@empresa.example', emailVerified: true });
      const linkBrowser = new HttpBrowser();
      const link = await signInWith(world, linkBrowser, 'google', account.login);
      t.regex(link.page.body, /Vincula tu cuenta de Google/);
      t.true(
        isAt(
          await linkBrowser.submit(link.page, '/federation/link', { password: PASSWORD }, world.redirectUri),
          world.redirectUri,
        ),
      );

      const db = server.umbral.storage.db;
      await db
        .insertInto('login_lockouts')
        .values({ user_id: ana.id, failures: LOCKOUT_THRESHOLD, last_failure_at: new Date() })
        .execute();
      const browser = new HttpBrowser();
      const identifier = await browser.open((await rp.authorizationRequest()).url, world.redirectUri);
      const passwordPage = await browser.submit(identifier, '/identifier', { email: ana.email }, world.redirectUri);
      const refused = await browser.submit(passwordPage, '/password', { password: PASSWORD }, world.redirectUri);
      t.regex(refused.body, /bloqueado/);

      const viaGoogle = await signInWith(world, new HttpBrowser(), 'google', account.login);
      t.true(isAt(viaGoogle.page, world.redirectUri), viaGoogle.page.url);
      t.is((await rp.exchange(viaGoogle.page.url, viaGoogle.request)).claims()!.sub, ana.id);
      t.is(await db.selectFrom('login_lockouts').selectAll().executeTakeFirst(), undefined, 'the count starts over');
    },
  );
}
