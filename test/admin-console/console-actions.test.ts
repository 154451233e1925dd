import test from 'ava';
import { formOf, type HttpBrowser } from '../support/http-browser.ts';
import { startWebhookReceiver } from '../webhooks/webhook-receiver.ts';
import {
  ACR_MFA,
  ageSignIn,
  CONSOLE_STORES,
  type ConsoleWorld,
  consoleWorlds,
  createOperator,
  createUser,
  enrollTotp,
  newBrowser,
  openConsole,
  PASSWORD,
  REDIRECT,
} from './console-fixture.ts';

const consoleWorld = consoleWorlds(test);

/** An operator with an authenticator app, signed in to the console in `browser`. */
async function signedInOperator(world: ConsoleWorld, browser: HttpBrowser) {
  const operator = await createOperator(world.server, 'olga@example.com');
  const totp = await enrollTotp(world.server, operator);
  const home = await openConsole(world, browser, '/admin', operator.email, totp);
  if (home.status !== 200) throw new Error(`console did not open: ${home.status} ${home.url}`);
  return { operator, totp };
}

for (const kind of CONSOLE_STORES) {
  test.serial(`[${kind}] users: search, and a bad search is a field error`, async (t) => {
    const world = await consoleWorld(kind);
    const browser = newBrowser();
    await signedInOperator(world, browser);
    const bea = await createUser(world.server, 'bea@example.com', 'Bea Souza');
    await createUser(world.server, 'carlos@example.com', 'Carlos Díaz');
    const found = await browser.open(`${world.server.issuer}/admin/users?q=souza`);
    t.is(found.status, 200);
    t.regex(found.body, new RegExp(`href="/admin/users/${bea.id}">bea@example\\.com</a>`));
    t.notRegex(found.body, /carlos@example\.com/);
    const tooLong = await browser.open(`${world.server.issuer}/admin/users?q=${'a'.repeat(260)}`);
    t.is(tooLong.status, 400);
    t.regex(tooLong.body, /id="q"[^>]*aria-invalid="true" aria-describedby="q-error"/);
    t.regex(tooLong.body, /La búsqueda puede tener hasta 254 caracteres/);
  });

  test.serial(
    `[${kind}] users: disable needs the email typed again and ends the portal session; enable, reset, end sessions`,
    async (t) => {
      const world = await consoleWorld(kind);
      const browser = newBrowser();
      const { operator } = await signedInOperator(world, browser);
      const bea = await createUser(world.server, 'bea@example.com', 'Bea Souza');
      const portal = newBrowser();
      const { callback } = await world.rp.signIn(portal, bea.email, PASSWORD);
      t.true(callback.url.startsWith(REDIRECT));
      await enrollTotp(world.server, bea);

      const page = await browser.open(`${world.server.issuer}/admin/users/${bea.id}`);
      t.is(page.status, 200);
      t.regex(page.body, /<h1>bea@example\.com<\/h1>/);
      t.regex(page.body, /1 sesión abierta/);
      t.regex(page.body, /App de autenticación «Teléfono»/);

      const wrong = await browser.submit(page, `/admin/users/${bea.id}/disable`, { confirm_email: 'otra@example.com' });
      t.is(wrong.status, 400);
      t.regex(
        wrong.body,
        /id="disable-confirm"[^>]*value="otra@example\.com" aria-invalid="true" aria-describedby="disable-confirm-error"/,
      );
      t.regex(wrong.body, /Escribe el correo de esta cuenta/);
      t.false((await world.server.users.findById(bea.id))!.disabled, 'nothing changed');
      t.is(world.receiver.tokens.length, 0);

      const self = await browser.open(`${world.server.issuer}/admin/users/${operator.id}`);
      t.regex(self.body, /Es tu propia cuenta/);
      t.notRegex(self.body, /\/disable"/, 'no disable form for oneself');
      const selfPost = await browser.request(`${world.server.issuer}/admin/users/${operator.id}/disable`, {
        form: { ...formOf(page.body, '/disable').hidden, confirm_email: operator.email },
      });
      t.is(selfPost.status, 400);
      t.false((await world.server.users.findById(operator.id))!.disabled);

      const disabled = await browser.submit(page, `/admin/users/${bea.id}/disable`, {
        confirm_email: 'BEA@example.com',
      });
      t.is(browser.history.at(-2)!.status, 303, '303 after the POST');
      t.is(disabled.status, 200);
      t.regex(disabled.body, /Desactivamos la cuenta y cerramos todas sus sesiones/);
      t.true((await world.server.users.findById(bea.id))!.disabled);
      await world.server.umbral.terminator.settled();
      t.is((await world.receiver.waitFor(1)).length, 1, 'the portal heard the back-channel logout');
      await world.server.umbral.audit.flush();
      const event = await world.server.umbral.storage.db
        .selectFrom('audit_events')
        .selectAll()
        .where('type', '=', 'user.disabled')
        .executeTakeFirstOrThrow();
      t.like(event, { actor_kind: 'operator', actor_id: operator.id, subject_user_id: bea.id });
      t.regex(disabled.body, new RegExp(`href="/admin/audit\\?user=${bea.id}"`));
      const trail = await browser.open(`${world.server.issuer}/admin/audit?user=${bea.id}&type=user.disabled`);
      t.regex(trail.body, /<code>user\.disabled<\/code><\/td><td>Operación olga@example\.com<\/td>/);

      const enabled = await browser.submit(disabled, `/admin/users/${bea.id}/enable`, {});
      t.regex(enabled.body, /La cuenta puede volver a iniciar sesión/);
      t.false((await world.server.users.findById(bea.id))!.disabled);

      const badReset = await browser.submit(enabled, `/admin/users/${bea.id}/reset-factors`, { confirm_email: '' });
      t.is(badReset.status, 400);
      t.regex(badReset.body, /id="reset-confirm"[^>]*aria-invalid="true"/);
      t.is((await world.server.umbral.mfa.factors.list(bea.id)).length, 1);
      const reset = await browser.submit(enabled, `/admin/users/${bea.id}/reset-factors`, { confirm_email: bea.email });
      t.regex(reset.body, /Quitamos su verificación en dos pasos/);
      t.is((await world.server.umbral.mfa.factors.list(bea.id)).length, 0);

      await world.rp.signIn(newBrowser(), bea.email, PASSWORD);
      const withSession = await browser.open(`${world.server.issuer}/admin/users/${bea.id}`);
      t.regex(withSession.body, /1 sesión abierta/);
      const tampered = await browser.submit(withSession, `/admin/users/${bea.id}/end-sessions`, {
        session: 'no-such-session',
      });
      t.is(tampered.status, 400);
      t.regex(tampered.body, /Esa sesión ya no está abierta/);
      const ended = await browser.submit(withSession, `/admin/users/${bea.id}/end-sessions`, { session: '' });
      t.regex(ended.body, /Cerramos todas sus sesiones/);
      t.regex(ended.body, /0 sesiones abiertas/);
    },
  );

  test.serial(`[${kind}] a console form without its CSRF token is refused and changes nothing`, async (t) => {
    const world = await consoleWorld(kind);
    const browser = newBrowser();
    await signedInOperator(world, browser);
    const bea = await createUser(world.server, 'bea@example.com');
    const refused = await browser.request(`${world.server.issuer}/admin/users/${bea.id}/disable`, {
      form: { confirm_email: bea.email },
    });
    t.is(refused.status, 403);
    t.regex(refused.body, /El formulario venció/);
    t.regex(refused.body, new RegExp(`href="/admin/users/${bea.id}"`));
    const forged = await browser.request(`${world.server.issuer}/admin/users/${bea.id}/disable`, {
      form: { _csrf: 'forged', confirm_email: bea.email },
    });
    t.is(forged.status, 403);
    t.false((await world.server.users.findById(bea.id))!.disabled);
  });

  test.serial(
    `[${kind}] a destructive action after a sign-in older than 5 minutes asks for a fresh one first`,
    async (t) => {
      const world = await consoleWorld(kind);
      const browser = newBrowser();
      const { operator, totp } = await signedInOperator(world, browser);
      const bea = await createUser(world.server, 'bea@example.com');
      const page = await browser.open(`${world.server.issuer}/admin/users/${bea.id}`);
      await ageSignIn(world.server, operator.id, 10 * 60);

      const stale = await browser.request(`${world.server.issuer}/admin/users/${bea.id}/disable`, {
        form: { ...formOf(page.body, '/disable').hidden, confirm_email: bea.email },
      });
      t.is(stale.status, 303);
      const authorize = new URL(stale.headers.get('location')!, world.server.issuer);
      t.is(authorize.pathname, '/auth');
      t.is(authorize.searchParams.get('prompt'), 'login');
      t.is(authorize.searchParams.get('max_age'), '0');
      t.is(authorize.searchParams.get('acr_values'), ACR_MFA);
      t.is(authorize.searchParams.get('login_hint'), operator.email);
      t.false((await world.server.users.findById(bea.id))!.disabled, 'nothing done on a stale sign-in');

      // Signing in again (password and code) comes back to the person's page, where the action works.
      let back = await browser.follow(stale);
      if (back.body.includes('/identifier"'))
        back = await browser.submit(back, '/identifier', { email: operator.email });
      back = await browser.submit(back, '/password', { password: PASSWORD });
      back = await browser.submit(back, '/mfa/totp', { code: await totp.code() });
      t.is(new URL(back.url).pathname, `/admin/users/${bea.id}`);
      const disabled = await browser.submit(back, `/admin/users/${bea.id}/disable`, { confirm_email: bea.email });
      t.regex(disabled.body, /Desactivamos la cuenta/);
      t.true((await world.server.users.findById(bea.id))!.disabled);
    },
  );

  test.serial(
    `[${kind}] webhooks: bad input is a field error; an endpoint's secret is shown once; deliveries; remove`,
    async (t) => {
      const world = await consoleWorld(kind);
      const browser = newBrowser();
      await signedInOperator(world, browser);
      const receiver = await startWebhookReceiver();
      t.teardown(() => receiver.close());
      const endpoints = () => world.server.umbral.storage.db.selectFrom('webhook_endpoints').selectAll().execute();
      const page = await browser.open(`${world.server.issuer}/admin/webhooks`);
      t.is(page.status, 200);

      for (const [fields, field] of [
        [{ url: 'ftp://hooks.example.com/x', events: 'user.signed_in' }, 'url'],
        [{ url: receiver.url }, 'events'],
        [{ url: receiver.url, events: 'user.signed_in', description: 'x'.repeat(201) }, 'description'],
      ] as const) {
        const refused = await browser.submit(page, '/admin/webhooks/add', fields);
        t.is(refused.status, 400, field);
        t.regex(refused.body, new RegExp(`<p id="${field}-error" class="error">`), field);
        t.regex(refused.body, new RegExp(`value="${fields.url.replace(/[.?/]/g, '\\$&')}"`), 'the URL typed is kept');
      }
      t.deepEqual(await endpoints(), [], 'nothing created');

      const created = await browser.submit(page, '/admin/webhooks/add', {
        url: receiver.url,
        events: 'user.signed_in',
        description: 'CRM',
      });
      t.is(created.status, 200);
      const [endpoint] = await endpoints();
      t.is(new URL(created.url).pathname, `/admin/webhooks/${endpoint!.id}`);
      const secret = /<code data-secret>(whsec_[A-Za-z0-9+/=]+)<\/code>/.exec(created.body)?.[1];
      t.truthy(secret, 'the secret is shown');
      const again = await browser.open(created.url);
      t.notRegex(again.body, /whsec_/, 'and only once');

      await createUser(world.server, 'bea@example.com');
      await world.rp.signIn(newBrowser(), 'bea@example.com', PASSWORD);
      await receiver.waitFor(1);
      await world.server.umbral.webhooks.settled();
      const history = await browser.open(created.url);
      t.regex(history.body, /<code>user\.signed_in<\/code>/);
      t.regex(history.body, /HTTP 204/);
      t.regex(history.body, /Entregada/);

      const paused = await browser.submit(history, `/admin/webhooks/${endpoint!.id}/toggle`, {});
      t.regex(paused.body, /Guardamos el cambio/);
      t.regex(paused.body, /<span class="badge">Pausado<\/span>/);
      t.false((await endpoints())[0]!.enabled);
      const resumed = await browser.submit(paused, `/admin/webhooks/${endpoint!.id}/toggle`, {});
      t.true((await endpoints())[0]!.enabled, resumed.url);

      const removed = await browser.submit(history, `/admin/webhooks/${endpoint!.id}/remove`, {});
      t.regex(removed.body, /Eliminamos el destino con sus entregas/);
      t.deepEqual(await endpoints(), []);
    },
  );

  test.serial(
    `[${kind}] portals: rotate a secret (shown once, both working), bad input refused, remove with its id typed`,
    async (t) => {
      const world = await consoleWorld(kind);
      const browser = newBrowser();
      const { operator } = await signedInOperator(world, browser);
      const registered = await world.server.registerClient({
        clientId: 'crm',
        name: 'CRM de Ventas',
        grantTypes: ['client_credentials'],
        firstParty: true,
      });
      t.teardown(() => world.server.clients.remove('crm').then(() => undefined));
      const oldSecret = registered.client_secret!;
      const token = (secret: string) =>
        fetch(`${world.server.issuer}/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`crm:${secret}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials',
        }).then((r) => r.status);
      const stored = async () =>
        (
          await world.server.umbral.storage.db
            .selectFrom('clients')
            .select('metadata')
            .where('client_id', '=', 'crm')
            .executeTakeFirst()
        )?.metadata as Record<string, unknown> | undefined;

      const list = await browser.open(`${world.server.issuer}/admin/portals?q=ventas`);
      t.regex(list.body, /href="\/admin\/portals\/crm"><code>crm<\/code><\/a>/);
      const page = await browser.open(`${world.server.issuer}/admin/portals/crm`);
      t.is(page.status, 200);
      t.regex(page.body, /<h1>CRM de Ventas<\/h1>/);
      t.is([...page.body.matchAll(/data-secret-status="/g)].length, 1);

      const before = JSON.stringify(await stored());
      for (const days of ['abc', '91', '-1', '']) {
        const refused = await browser.submit(page, '/admin/portals/crm/rotate-secret', { keep_old_days: days });
        t.is(refused.status, 400, days);
        t.regex(refused.body, /id="keep_old_days"[^>]*aria-invalid="true" aria-describedby="keep_old_days-error"/);
        t.regex(refused.body, /Escribe un número entero de días, de 0 a 90/);
      }
      t.is(JSON.stringify(await stored()), before, 'nothing changed');

      const rotated = await browser.submit(page, '/admin/portals/crm/rotate-secret', { keep_old_days: '3' });
      t.is(browser.history.at(-2)!.status, 303);
      const newSecret = /<code data-secret>([^<]+)<\/code>/.exec(rotated.body)?.[1];
      t.truthy(newSecret, 'the new secret is shown');
      t.regex(rotated.body, /El secreto anterior sigue funcionando hasta el/);
      t.is([...rotated.body.matchAll(/data-secret-status="previous"/g)].length, 1);
      t.notRegex((await browser.open(`${world.server.issuer}/admin/portals/crm`)).body, /data-secret>/, 'shown once');
      t.is(await token(newSecret!), 200, 'the new secret works');
      t.is(await token(oldSecret), 200, 'and the old one, during the overlap');
      await world.server.umbral.audit.flush();
      const event = await world.server.umbral.storage.db
        .selectFrom('audit_events')
        .selectAll()
        .where('type', '=', 'client.secret_rotated')
        .executeTakeFirstOrThrow();
      t.like(event, { actor_kind: 'operator', actor_id: operator.id });
      t.notRegex(JSON.stringify(event.data), new RegExp(newSecret!), 'the secret is not in the audit log');

      const wrong = await browser.submit(page, '/admin/portals/crm/remove', { confirm_client_id: 'CRM' });
      t.is(wrong.status, 400);
      t.regex(wrong.body, /id="confirm_client_id"[^>]*value="CRM" aria-invalid="true"/);
      t.truthy(await stored());
      const removed = await browser.submit(page, '/admin/portals/crm/remove', { confirm_client_id: 'crm' });
      t.is(new URL(removed.url).pathname, '/admin/portals');
      t.regex(removed.body, /Eliminamos el portal crm con sus tokens/);
      t.is(await stored(), undefined);
    },
  );

  // Last of the file's tests on this world: the keys it adds stay (signing keys outlive a reset).
  test.serial(`[${kind}] signing keys: listed; rotated after ticking the consequence, audited`, async (t) => {
    const world = await consoleWorld(kind);
    const browser = newBrowser();
    const { operator } = await signedInOperator(world, browser);
    const keys = () =>
      world.server.umbral.storage.db.selectFrom('signing_keys').select(['kid', 'retired_at']).execute();
    const before = await keys();
    const page = await browser.open(`${world.server.issuer}/admin/keys`);
    t.is(page.status, 200);
    for (const key of before) t.regex(page.body, new RegExp(`data-kid="${key.kid}"`));
    t.notRegex(page.body, /"d":|private/i, 'no private parts');

    const unticked = await browser.submit(page, '/admin/keys/rotate', {});
    t.is(unticked.status, 400);
    t.regex(unticked.body, /id="confirm"[^>]*aria-invalid="true" aria-describedby="confirm-error"/);
    t.deepEqual(await keys(), before, 'nothing rotated');

    const rotated = await browser.submit(page, '/admin/keys/rotate', { confirm: '1' });
    t.regex(rotated.body, /Rotamos las llaves/);
    const after = await keys();
    t.is(after.length, before.length + 4, 'a new key per algorithm');
    t.true(
      after.filter((k) => before.some((b) => b.kid === k.kid)).every((k) => k.retired_at !== null),
      'the previous keys retired',
    );
    t.is([...rotated.body.matchAll(/Retirada/g)].length, after.filter((k) => k.retired_at).length);
    await world.server.umbral.audit.flush();
    const event = await world.server.umbral.storage.db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', '=', 'keys.rotated')
      .executeTakeFirstOrThrow();
    t.like(event, { actor_kind: 'operator', actor_id: operator.id });
  });
}
