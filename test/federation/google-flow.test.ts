import test from 'ava';
import * as oidc from 'openid-client';
import { submitCredentials } from '../support/hosted-sign-in.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { federationWorlds, PASSWORD } from './federation-world.ts';
import { continueAtProvider, isAt, signInWith } from './flow-helpers.ts';

const federationWorld = federationWorlds(test);

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] Google sign-up: terms confirmed, a verified account keyed on (issuer, sub), then a plain sign-in`,
    async (t) => {
      const world = await federationWorld(kind);
      const { server, google, rp } = world;
      const account = google.addAccount({ email: 'Lucia@Gmail.example', name: 'Lucía Gómez', emailVerified: true });
      const browser = new HttpBrowser();

      const { request, identifier, upstreamPage, page } = await signInWith(world, browser, 'google', account.login);
      t.regex(identifier.body, /Continuar con Google/);
      t.regex(identifier.body, /Continuar con Microsoft/);
      t.true(
        upstreamPage.url.startsWith(google.issuer),
        `the button leads to the provider: ${upstreamPage.url} ${upstreamPage.status} ${upstreamPage.body.slice(0, 1500)}`,
      );
      const authorize = browser.history.find((p) => p.url.startsWith(`${google.issuer}/auth?`))!;
      const sent = new URL(authorize.url).searchParams;
      t.is(sent.get('code_challenge_method'), 'S256');
      t.is(sent.get('redirect_uri'), `${server.issuer}/federation/google/callback`);
      t.true(
        (sent.get('state') ?? '').length >= 43 && (sent.get('nonce') ?? '').length >= 43,
        'state and nonce carry 256 bits',
      );

      t.regex(page.body, /Crea tu cuenta/);
      t.regex(page.body, /Lucia@Gmail\.example/);
      t.regex(page.body, /Google ya confirmó este correo/);
      t.regex(page.body, /value="Lucía Gómez"/);

      // Without the terms: a clear error, and no account.
      const refused = await browser.submit(page, '/federation/signup', { name: 'Lucía Gómez' }, world.redirectUri);
      t.is(refused.status, 400);
      t.regex(refused.body, /debes aceptar los términos/);
      t.is(await server.users.findByEmail('lucia@gmail.example'), undefined);

      const callback = await browser.submit(
        refused,
        '/federation/signup',
        { name: 'Lucía Gómez', terms: 'accepted' },
        world.redirectUri,
      );
      t.true(isAt(callback, world.redirectUri), callback.url);
      const tokens = await rp.exchange(callback.url, request);
      const claims = tokens.claims()!;
      t.deepEqual(claims.amr, ['fed']);
      const user = (await server.users.findByEmail('lucia@gmail.example'))!;
      t.is(claims.sub, user.id);
      t.true(user.email_verified);
      t.is(user.password_hash, null);
      t.is(user.terms_version, '1');
      t.truthy(user.terms_accepted_at);
      const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
      t.is(userinfo.email_verified, true);
      t.is(userinfo.name, 'Lucía Gómez');
      const identities = await server.umbral.storage.db.selectFrom('federated_identities').selectAll().execute();
      t.is(identities.length, 1);
      t.like(identities[0], {
        user_id: user.id,
        provider: 'google',
        realm: google.issuer,
        subject: account.claims['sub'],
      });

      // The second time: straight back to the portal, same account.
      const again = new HttpBrowser();
      const second = await signInWith(world, again, 'google', account.login);
      t.true(isAt(second.page, world.redirectUri));
      t.is((await rp.exchange(second.page.url, second.request)).claims()!.sub, user.id);

      // The callback URL cannot be replayed, not even by the browser that used it.
      const callbackHop = again.history.find((p) => p.url.includes('/federation/google/callback?'))!;
      const replay = await again.open(callbackHop.url, world.redirectUri);
      t.is(replay.status, 400);
      t.regex(replay.body, /venció o ya se usó/);

      // Disabled by an operator: Google's proof no longer signs in, and the refusal is the account's.
      await server.umbral.userAdministration.disable(
        { id: user.id },
        { actor: { kind: 'operator', id: 'op' }, via: 'cli' },
      );
      const refusedAgain = await signInWith(world, new HttpBrowser(), 'google', account.login);
      t.is(refusedAgain.page.status, 403);
      t.regex(refusedAgain.page.body, /Esta cuenta está desactivada/);
      await server.umbral.audit.flush();
      const audited = (await server.umbral.audit.query({ userId: user.id })).events.reverse();
      t.like(
        audited.find((e) => e.type === 'federation.linked'),
        {
          actor: { kind: 'user', id: user.id },
          data: { provider: 'google', proof: 'automatic' },
        },
      );
      t.like(audited.at(-1), {
        type: 'sign_in.failed',
        actor: { kind: 'user', id: user.id },
        data: { method: 'google', reason: 'disabled' },
      });
    },
  );

  test.serial(
    `[${kind}] a Google account with the email of a verified local account links only with that account's password`,
    async (t) => {
      const world = await federationWorld(kind);
      const { server, google, rp } = world;
      const local = await server.users.create({
        email: 'ana@empresa.example',
        password: PASSWORD,
        name: 'Ana',
        emailVerified: true,
      });
      const account = google.addAccount({ email: 'ana@empresa.example', emailVerified: true });
      const browser = new HttpBrowser();
      const { request, page } = await signInWith(world, browser, 'google', account.login);
      t.regex(page.body, /Vincula tu cuenta de Google/);
      t.regex(page.body, /ana@empresa\.example/);

      const wrong = await browser.submit(
        page,
        '/federation/link',
        { password: 'not the password at all' },
        world.redirectUri,
      );
      t.regex(wrong.body, /La contraseña no es correcta/);
      t.is(
        await server.umbral.storage.db.selectFrom('federated_identities').selectAll().executeTakeFirst(),
        undefined,
        'a wrong password links nothing',
      );

      const callback = await browser.submit(wrong, '/federation/link', { password: PASSWORD }, world.redirectUri);
      t.true(isAt(callback, world.redirectUri), callback.url);
      const claims = (await rp.exchange(callback.url, request)).claims()!;
      t.is(claims.sub, local.id);
      t.deepEqual(claims.amr, ['fed', 'pwd']);
      const linked = await server.umbral.storage.db.selectFrom('federated_identities').selectAll().execute();
      t.is(linked.length, 1);
      t.is(linked[0]!.user_id, local.id);

      // From now on Google alone signs in to that account.
      const next = await signInWith(world, new HttpBrowser(), 'google', account.login);
      t.true(isAt(next.page, world.redirectUri));
      t.is((await rp.exchange(next.page.url, next.request)).claims()!.sub, local.id);
    },
  );

  test.serial(
    `[${kind}] no linking into an account whose email is unverified, even with automatic linking on`,
    async (t) => {
      const world = await federationWorld(kind, { FEDERATION_AUTO_LINK: 'true' });
      const { server, google } = world;
      // Someone registered the email first and never verified it (a pre-hijacking attempt, say).
      const squatter = await server.users.create({
        email: 'eva@correo.example',
        password: PASSWORD,
        emailVerified: false,
      });
      const account = google.addAccount({ email: 'eva@correo.example', emailVerified: true });
      const browser = new HttpBrowser();
      const { page } = await signInWith(world, browser, 'google', account.login);
      t.is(page.status, 409);
      t.regex(page.body, /aún no está confirmado/);
      t.regex(page.body, /Usar otra forma de iniciar sesión/);
      t.is(await server.umbral.storage.db.selectFrom('federated_identities').selectAll().executeTakeFirst(), undefined);
      t.false((await server.users.findById(squatter.id))!.email_verified);
    },
  );

  test.serial(
    `[${kind}] automatic linking (operator switch) links a verified email to a verified account without the password`,
    async (t) => {
      const world = await federationWorld(kind, { FEDERATION_AUTO_LINK: 'true' });
      const { server, google, rp } = world;
      const local = await server.users.create({
        email: 'leo@empresa.example',
        password: PASSWORD,
        emailVerified: true,
      });
      const verified = google.addAccount({ email: 'leo@empresa.example', emailVerified: true });
      const { request, page } = await signInWith(world, new HttpBrowser(), 'google', verified.login);
      t.true(isAt(page, world.redirectUri));
      t.is((await rp.exchange(page.url, request)).claims()!.sub, local.id);

      // An unverified Google email never links, switch or not: it goes to a sign-up that cannot take the email.
      const unverifiedOwner = await server.users.create({
        email: 'mia@empresa.example',
        password: PASSWORD,
        emailVerified: true,
      });
      const unverified = google.addAccount({ email: 'mia@empresa.example', emailVerified: false });
      const attempt = await signInWith(world, new HttpBrowser(), 'google', unverified.login);
      t.regex(attempt.page.body, /Crea tu cuenta/);
      t.regex(attempt.page.body, /Te enviaremos un código/);
      t.is(
        (
          await server.umbral.storage.db
            .selectFrom('federated_identities')
            .selectAll()
            .where('user_id', '=', unverifiedOwner.id)
            .execute()
        ).length,
        0,
      );
    },
  );

  test.serial(
    `[${kind}] a Google Workspace allow-list refuses other domains, with a page that leads back to the other methods`,
    async (t) => {
      const world = await federationWorld(kind, { GOOGLE_ALLOWED_DOMAINS: 'acme.example' });
      const { server, google } = world;
      const outsider = google.addAccount({ email: 'pepe@gmail.example', emailVerified: true });
      const browser = new HttpBrowser();
      const { page } = await signInWith(world, browser, 'google', outsider.login);
      t.is(page.status, 400);
      t.regex(page.body, /No pudimos iniciar sesión con Google/);
      t.regex(page.body, /dominios autorizados/);
      t.is((await server.users.list()).length, 0);
      const back = await browser.open(new URL(/href="([^"]+\?step=identifier)"/.exec(page.body)![1]!, page.url).href);
      t.regex(back.body, /Inicia sesión/, 'the pending authorization goes on with another method');

      const member = google.addAccount({ email: 'rosa@acme.example', emailVerified: true, hd: 'acme.example' });
      const ok = await signInWith(world, new HttpBrowser(), 'google', member.login);
      t.regex(ok.page.body, /Crea tu cuenta/);
    },
  );

  test.serial(
    `[${kind}] cancelling at Google ends on a Spanish page, and the authorization resumes with the password`,
    async (t) => {
      const world = await federationWorld(kind);
      const { server, google, rp } = world;
      await server.users.create({ email: 'sol@empresa.example', password: PASSWORD, emailVerified: true });
      const account = google.addAccount({ email: 'sol@empresa.example' });
      const browser = new HttpBrowser();
      const request = await rp.authorizationRequest();
      const identifier = await browser.open(request.url, world.redirectUri);
      const upstream = await browser.submit(identifier, '/federation/google/start', {}, world.redirectUri);
      const page = await continueAtProvider(world, browser, upstream, account.login, 'deny');
      t.is(page.status, 400);
      t.regex(page.body, /Se canceló el inicio de sesión en Google/);
      t.notRegex(page.body, /at \w+ \(|node_modules|Error:/);
      const again = await browser.open(new URL(/href="([^"]+\?step=identifier)"/.exec(page.body)![1]!, page.url).href);
      const { next: callback } = await submitCredentials(
        browser,
        again,
        'sol@empresa.example',
        PASSWORD,
        world.redirectUri,
      );
      t.true(isAt(callback, world.redirectUri));
      t.deepEqual((await rp.exchange(callback.url, request)).claims()!.amr, ['pwd']);
    },
  );
}
