import test from 'ava';
import { parse } from 'csv-parse/sync';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { WeeklySummaryPreferences } from '../../src/organizations/weekly-summary-preferences.ts';
import { HttpBrowser, type Page, submitMultipart } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import { type ConsoleWorld, consoleWorlds, invitationLink, PASSWORD, textOf } from './console-world.ts';

const worlds = consoleWorlds(test);

/** Signs the browser in at the company portal (through the hosted login unless its session holds) and redeems the code. */
async function signInAtPortal(world: ConsoleWorld, browser: HttpBrowser, email: string) {
  const { rp } = world.portal;
  const request = await rp.authorizationRequest({ scope: 'openid email profile organization' });
  let page = await browser.open(request.url, rp.redirectUri);
  if (!page.url.startsWith(rp.redirectUri)) page = await browser.submit(page, '/identifier', { email }, rp.redirectUri);
  if (!page.url.startsWith(rp.redirectUri))
    page = await browser.submit(page, '/password', { password: PASSWORD }, rp.redirectUri);
  if (!page.url.startsWith(rp.redirectUri)) throw new Error(`no callback from the portal: ${textOf(page)}`);
  const tokens = await rp.exchange(page.url, request);
  return { tokens, sid: tokens.claims()!['sid'] as string };
}

/** The audit events the console recorded, oldest first. */
async function consoleEvents(world: ConsoleWorld) {
  await world.server.umbral.audit.flush();
  const { events } = await world.server.umbral.audit.query({ limit: 1000 });
  return events.filter((e) => e.type.startsWith('org_console.')).reverse();
}

function invitationsOf(world: ConsoleWorld, organizationId: string) {
  return world.server.umbral.storage.db
    .selectFrom('organization_invitations')
    .select(['email', 'status', 'roles', 'token_hash', 'expires_at'])
    .where('organization_id', '=', organizationId)
    .orderBy('email')
    .execute();
}

/** The id in the resend form of the address's row of pending invitations. */
function invitationIdOf(page: Page, email: string): string {
  const row = new RegExp(`<tr data-invitation="${email.replace(/[.]/g, '\\.')}">([\\s\\S]*?)</tr>`).exec(
    page.body,
  )?.[1];
  const id = /\/org\/invitations\/([0-9a-f-]{36})\/resend/.exec(row ?? '')?.[1];
  if (!id) throw new Error(`no pending invitation for ${email}`);
  return id;
}

function rowOf(page: Page, attribute: string, value: string): string {
  const match = new RegExp(`<tr ${attribute}="${value.replace(/[.]/g, '\\.')}">([\\s\\S]*?)</tr>`).exec(page.body);
  return match ? textOf({ ...page, body: match[1]! }) : '';
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] an admin invites one, then a batch with bad and repeated rows, resends, revokes, changes roles and excludes`,
    async (t) => {
      const world = await worlds(kind);
      const acme = await world.company({ seatLimit: 4 });
      const ana = await world.person('ana@acme.example', acme, ['admin']);
      const { browser, page: members } = await world.signedIn('ana@acme.example');
      t.is(members.status, 200);
      t.regex(textOf(members), /Colaboradores Administras Acme S\.A\./);
      t.regex(rowOf(members, 'data-member', 'ana@acme.example'), /Administrador Activo/);

      // One invitation, mailed by the queue over SMTP.
      let invitations = await browser.open(`${world.server.issuer}/org/invitations?org=${acme.row.slug}`);
      const invited = await browser.submit(invitations, '/org/invitations?', {
        email: 'beto@acme.example',
        roles: 'member',
      });
      t.is(invited.url, `${world.server.issuer}/org/invitations?org=${acme.row.slug}&done=invited`);
      t.regex(textOf(invited), /Enviamos la invitación\./);
      t.regex(rowOf(invited, 'data-invitation', 'beto@acme.example'), /Miembro Vence el/);
      const [first] = await world.mailTo('beto@acme.example');
      t.regex(first!.subject ?? '', /Acme S\.A\./);

      // A batch: pasted addresses with a malformed and a repeated one and a member, plus a CSV;
      // Ana and Beto's invitation take two of the four seats, so the third new address finds none.
      invitations = await browser.open(`${world.server.issuer}/org/invitations?org=${acme.row.slug}`);
      const batch = await submitMultipart(
        browser,
        invitations,
        '/org/invitations/batch',
        { emails: 'carla@acme.example, not-an-email\ncarla@acme.example; ana@acme.example', roles: ['member'] },
        { csv: ['gente.csv', 'nombre;email\nDora;dora@acme.example\nEmi;emi@acme.example\n'] },
      );
      t.regex(batch.url, /\/org\/invitations\/batches\/[0-9a-f-]{36}\?org=/);
      t.regex(textOf(batch), /2 invitadas 1 ya era colaborador 3 rechazadas/);
      t.regex(rowOf(batch, 'data-refused', 'malformed'), /not-an-email No es un correo electrónico válido/);
      t.regex(rowOf(batch, 'data-refused', 'duplicate'), /carla@acme\.example Repetida en la lista/);
      t.regex(rowOf(batch, 'data-refused', 'no_seat'), /emi@acme\.example No quedan lugares/);
      t.deepEqual(
        (await invitationsOf(world, acme.row.id)).map((i) => `${i.email} ${i.status}`),
        ['beto@acme.example pending', 'carla@acme.example pending', 'dora@acme.example pending'],
      );
      await world.mailTo('dora@acme.example');

      // Resend: a new link (the first stops working); revoke: the invitation is gone from the list.
      invitations = await browser.open(`${world.server.issuer}/org/invitations?org=${acme.row.slug}`);
      const betoId = invitationIdOf(invitations, 'beto@acme.example');
      const resent = await browser.submit(invitations, `/org/invitations/${betoId}/resend`, {});
      t.regex(textOf(resent), /Volvimos a enviar la invitación/);
      const [, second] = await world.mailTo('beto@acme.example', 2);
      const repository = new InvitationRepository(world.server.umbral.storage.db, () => world.clock.now());
      const firstToken = invitationLink(first!, world.server.issuer).split('/').pop()!;
      const secondToken = invitationLink(second!, world.server.issuer).split('/').pop()!;
      t.not(firstToken, secondToken);
      t.is(await repository.findByToken(firstToken), undefined, 'the older link stops working');
      const doraId = invitationIdOf(invitations, 'dora@acme.example');
      const revoked = await browser.submit(resent, `/org/invitations/${doraId}/revoke`, {});
      t.regex(textOf(revoked), /Revocaste la invitación/);
      t.false(revoked.body.includes('data-invitation="dora@acme.example"'));

      // Beto accepts and signs in at the company's portal.
      const beto = await world.person('beto@acme.example');
      await repository.accept(secondToken, beto.id);
      const betoBrowser = new HttpBrowser({ 'accept-language': 'es' });
      const atPortal = await signInAtPortal(world, betoBrowser, 'beto@acme.example');
      t.deepEqual(atPortal.tokens.claims()!['org_roles'], ['member']);

      // Roles: Beto becomes admin too; then Ana cannot drop her own admin role while she is the last.
      let betoPage = await browser.open(`${world.server.issuer}/org/members/${beto.id}?org=${acme.row.slug}`);
      betoPage = await browser.submit(betoPage, '/roles', { roles: ['member', 'admin'] });
      t.regex(textOf(betoPage), /Guardamos los roles\./);
      t.deepEqual((await world.memberships.membership(acme.row.id, beto.id))?.roles, ['admin', 'member']);
      betoPage = await browser.submit(betoPage, '/admin', {});
      t.deepEqual((await world.memberships.membership(acme.row.id, beto.id))?.roles, ['member']);
      const anaPage = await browser.open(`${world.server.issuer}/org/members/${ana.id}?org=${acme.row.slug}`);
      const refused = await browser.submit(anaPage, '/admin', {});
      t.is(refused.status, 409);
      t.regex(textOf(refused), /No puedes quitar al último administrador de la empresa/);
      t.deepEqual((await world.memberships.membership(acme.row.id, ana.id))?.roles, ['admin']);

      // Excluding Beto: his portal hears a back-channel logout for his session there, his refresh
      // token is dead, and prompt=none can no longer sign him in for Acme.
      // Not without ticking the box that says what excluding does: nothing changes, nothing is recorded.
      const unconfirmed = await browser.submit(betoPage, '/exclude', {});
      t.is(unconfirmed.status, 400);
      t.regex(textOf(unconfirmed), /Marca la casilla para confirmar la exclusión\. No se cambió nada\./);
      t.regex(unconfirmed.body, /id="exclude-confirm" name="confirm" type="checkbox" value="1" aria-invalid="true"/);
      t.deepEqual(await world.memberships.membership(acme.row.id, beto.id), { roles: ['member'] }, 'still a member');
      const excluded = await browser.submit(unconfirmed, '/exclude', { confirm: '1' });
      t.regex(textOf(excluded), /Excluiste a esta persona/);
      const [logout] = await world.portal.receiver.waitFor(1);
      t.is(decodeJwt(logout!)['sid'], atPortal.sid);
      await t.throwsAsync(world.portal.rp.refresh(atPortal.tokens.refresh_token!));
      const silent = await world.portal.rp.authorizationRequest({
        prompt: 'none',
        scope: 'openid email profile organization',
      });
      const answer = await betoBrowser.open(silent.url, world.portal.rp.redirectUri);
      const callback = new URL(answer.url);
      t.true(answer.url.startsWith(world.portal.rp.redirectUri));
      t.truthy(callback.searchParams.get('error'), `prompt=none refused: ${answer.url}`);
      t.is(callback.searchParams.get('code'), null);
      const list = await browser.open(`${world.server.issuer}/org?org=${acme.row.slug}`);
      t.regex(rowOf(list, 'data-member', 'beto@acme.example'), /Miembro Excluido/);

      // Included again, with the roles he had.
      const back = await browser.submit(excluded, '/include', {});
      t.regex(textOf(back), /volvió a la empresa/);
      t.deepEqual((await world.memberships.membership(acme.row.id, beto.id))?.roles, ['member']);

      // Every change, with Ana as actor, the organization and its target.
      const events = await consoleEvents(world);
      t.deepEqual(
        events.map((e) => e.type),
        [
          'org_console.member_invited',
          'org_console.member_invited',
          'org_console.member_invited',
          'org_console.invitation_resent',
          'org_console.invitation_revoked',
          'org_console.member_roles_changed',
          'org_console.admin_removed',
          'org_console.member_excluded',
          'org_console.member_included',
        ],
      );
      for (const event of events) {
        t.deepEqual(event.actor, { kind: 'user', id: ana.id });
        t.is(event.organizationId, acme.row.id);
      }
      t.is(events.find((e) => e.type === 'org_console.member_excluded')?.subjectUserId, beto.id);
      t.like(events.find((e) => e.type === 'org_console.member_excluded')?.data, { portalSessions: 1 });
    },
  );
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] the metrics page and the member list agree with the sign-ins made; the CSV export parses`,
    async (t) => {
      const world = await worlds(kind);
      const acme = await world.company({ seatLimit: 10 });
      const ana = await world.person('ana@acme.example', acme, ['admin']);
      await world.person('beto@acme.example', acme, ['member']);
      const carla = await world.person('carla@acme.example', acme, ['member']);
      const dora = await world.person('dora@acme.example', acme, ['member']);
      await world.memberships.remove(acme.row.id, dora.id, new Date());
      await world.server.umbral.storage.db
        .insertInto('mfa_factors')
        .values({ id: 'carla-sms', user_id: carla.id, kind: 'sms', phone: '+5215512345678', confirmed_at: new Date() })
        .execute();
      // Beto signs in twice at the portal today; Carla signed in with Google yesterday.
      const first = await signInAtPortal(world, new HttpBrowser(), 'beto@acme.example');
      await signInAtPortal(world, new HttpBrowser(), 'beto@acme.example');
      const events = world.server.umbral.insights.signInEvents;
      const yesterday = new Date(world.clock.now() - 24 * 3600_000);
      events.record({
        userId: carla.id,
        organizationId: acme.row.id,
        clientId: 'crm',
        method: 'google',
        at: yesterday,
      });
      await events.flush();

      const { browser, page: members } = await world.signedIn('ana@acme.example');
      await browser.submit(
        await browser.open(`${world.server.issuer}/org/invitations?org=${acme.row.slug}`),
        '/org/invitations?',
        { email: 'emi@acme.example', roles: 'member' },
      );
      t.regex(rowOf(members, 'data-member', 'beto@acme.example'), /Miembro Activo .*UTC Desactivada Contraseña/);
      t.regex(rowOf(members, 'data-member', 'carla@acme.example'), /Miembro Activo .*UTC Activada Google/);
      t.regex(rowOf(members, 'data-member', 'dora@acme.example'), /Miembro Excluido Nunca Desactivada —/);

      const metrics = await browser.open(`${world.server.issuer}/org/metrics?org=${acme.row.slug}`);
      t.is(metrics.status, 200);
      const metric = (name: string) =>
        textOf({
          ...metrics,
          body: new RegExp(`data-metric="${name}">([\\s\\S]*?)</(dd|p)>`).exec(metrics.body)?.[1] ?? '',
        });
      t.is(metric('active-7'), '2 de 3', 'Beto and Carla, of the three current members');
      t.is(metric('active-30'), '2 de 3');
      t.regex(metric('second-factor'), /^33\s?% · 1 de 3$/);
      t.is(metric('pending'), '1');
      t.is(metric('seats'), '4 de 10');
      t.is(metric('sign-ins-total'), '3 inicios de sesión en los últimos 30 días');
      const today = new Date(world.clock.now()).toISOString().slice(0, 10);
      t.regex(rowOf(metrics, 'data-day', today), / 2$/);
      t.regex(rowOf(metrics, 'data-day', yesterday.toISOString().slice(0, 10)), / 1$/);
      t.regex(metrics.body, /<svg [^>]*role="img"[^>]*aria-labelledby="sign-ins-chart-title sign-ins-chart-desc"/);
      t.regex(metrics.body, /<title id="sign-ins-chart-title">Inicios de sesión por día, últimos 30 días<\/title>/);
      t.regex(textOf(metrics), /Contraseña 2 67\s?% Llave de acceso 0 0\s?% Google 1 33\s?% Microsoft 0 0\s?%/);

      const csv = await browser.request(`${world.server.issuer}/org/members.csv?org=${acme.row.slug}`);
      t.is(csv.status, 200);
      t.regex(csv.headers.get('content-type') ?? '', /^text\/csv/);
      t.regex(csv.headers.get('content-disposition') ?? '', /attachment; filename="acme-\d+-members\.csv"/);
      const rows = parse(csv.body, { columns: true }) as Array<Record<string, string>>;
      t.deepEqual(
        rows.map((row) => [row['Correo electrónico'], row['Roles'], row['Estado']]),
        [
          ['ana@acme.example', 'Administrador', 'Activo'],
          ['beto@acme.example', 'Miembro', 'Activo'],
          ['carla@acme.example', 'Miembro', 'Activo'],
          ['dora@acme.example', 'Miembro', 'Excluido'],
        ],
      );
      const betoSignIn = new Date(rows[1]!['Último inicio de sesión']!);
      t.true(Math.abs(betoSignIn.getTime() - Number(first.tokens.claims()!['auth_time']) * 1000) < 60_000);
      t.is(rows[3]!['Último inicio de sesión'], '');

      // Ana's own weekly summary: on until she turns it off, from the same page.
      const summaries = new WeeklySummaryPreferences(world.server.umbral.storage.db);
      t.regex(textOf(metrics), /Cada lunes recibes por correo el resumen de Acme S\.A\./);
      const off = await browser.submit(metrics, '/org/weekly-summary', {});
      t.regex(off.url, /done=summary_off$/);
      t.regex(textOf(off), /Ya no vas a recibir el resumen semanal\. .*No recibes el resumen semanal de Acme S\.A\./);
      t.false(await summaries.isOn(acme.row.id, ana.id));
      const on = await browser.submit(off, '/org/weekly-summary', {});
      t.regex(textOf(on), /Vas a recibir el resumen semanal\./);
      t.true(await summaries.isOn(acme.row.id, ana.id));
      t.deepEqual(
        (await consoleEvents(world)).map((e) => [e.type, e.data['on'] ?? null]),
        [
          ['org_console.member_invited', null],
          ['org_console.weekly_summary_changed', false],
          ['org_console.weekly_summary_changed', true],
        ],
      );
    },
  );

  test.serial(
    `[${kind}] a member without org:manage gets a 403 page in their language, and changes nothing`,
    async (t) => {
      const world = await worlds(kind);
      const acme = await world.company();
      await world.person('ana@acme.example', acme, ['admin']);
      await world.person('beto@acme.example', acme, ['member']);
      const other = await world.company({ name: 'Otra S.A.' });
      await world.person('eva@otra.example', other, ['admin']);

      const { browser, page } = await world.signedIn('beto@acme.example', '/org', { 'accept-language': 'en' });
      t.is(page.status, 403);
      t.regex(textOf(page), /You don't have access to this console You're signed in as beto@acme\.example/);
      t.regex(page.body, /<a class="button primary" href="\/account">Go to my account<\/a>/);
      // A forged post (with his own CSRF token, from his account page) is refused the same way.
      const account = await browser.open(`${world.server.issuer}/account`);
      t.false(account.body.includes('href="/org'), 'no way to the console on a member’s account page');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(account.body)![1]!;
      const forged = await browser.request(`${world.server.issuer}/org/invitations?org=${acme.row.slug}`, {
        form: { _csrf: csrf, email: 'mallory@evil.example', roles: 'admin' },
      });
      t.is(forged.status, 403);
      t.deepEqual(await invitationsOf(world, acme.row.id), []);

      // Another company's admin cannot name Acme either.
      const eva = await world.signedIn('eva@otra.example', `/org?org=${acme.row.slug}`);
      t.is(eva.page.status, 403);
      t.regex(textOf(eva.page), /No tienes acceso a esta consola/);
      const own = await eva.browser.open(`${world.server.issuer}/org`);
      t.regex(textOf(own), /Administras Otra S\.A\./);
    },
  );

  test.serial(`[${kind}] an admin of two companies switches between them`, async (t) => {
    const world = await worlds(kind);
    const acme = await world.company();
    const beta = await world.company({ name: 'Beta Ltda.' });
    const ana = await world.person('ana@acme.example', acme, ['admin']);
    await world.memberships.join({ organizationId: beta.row.id, userId: ana.id, roles: ['admin'], invitedBy: null });
    await world.person('bruno@beta.example', beta, ['member']);
    const { browser, page } = await world.signedIn('ana@acme.example');
    t.regex(textOf(page), /Administras Acme S\.A\./);
    t.regex(page.body, /<nav class="org-switch"[\s\S]*Acme S\.A\.[\s\S]*Beta Ltda\./);
    const link = new RegExp(`<a href="([^"]*org=${beta.row.slug})">Beta Ltda\\.</a>`).exec(page.body)?.[1];
    t.truthy(link);
    const switched = await browser.open(`${world.server.issuer}${link}`);
    t.regex(textOf(switched), /Administras Beta Ltda\./);
    t.true(switched.body.includes('data-member="bruno@beta.example"'));
    t.regex(switched.body, /aria-current="page">Beta Ltda\.</);
    t.true(switched.body.includes(`href="/org/invitations?org=${beta.row.slug}"`), 'the sections stay on Beta');
    // Her account page leads to both consoles.
    const account = await browser.open(`${world.server.issuer}/account`);
    t.true(account.body.includes(`<a href="/org?org=${acme.row.slug}">Administrar Acme S.A.</a>`));
    t.true(account.body.includes(`<a href="/org?org=${beta.row.slug}">Administrar Beta Ltda.</a>`));
  });
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] every console form refuses bad input with an error by its field, and changes nothing`,
    async (t) => {
      const world = await worlds(kind);
      const acme = await world.company();
      await world.person('ana@acme.example', acme, ['admin']);
      const beto = await world.person('beto@acme.example', acme, ['member']);
      const { browser } = await world.signedIn('ana@acme.example');
      const invitationsUrl = `${world.server.issuer}/org/invitations?org=${acme.row.slug}`;
      const html = '<script>alert(1)</script>';

      const single = [
        [{ email: '', roles: 'member' }, 'email', 'Escribe el correo electrónico de la persona que quieres invitar.'],
        [{ email: `${'a'.repeat(250)}@acme.example`, roles: 'member' }, 'email', 'como máximo 254 caracteres'],
        [{ email: `${html}@acme.example`, roles: 'member' }, 'email', 'Escribe un correo electrónico válido'],
        [{ email: 'carla@acme.example' }, 'roles', 'Elige al menos un rol.'],
        [{ email: 'carla@acme.example', roles: 'superuser' }, 'form', 'Ese rol no existe'],
        [{ email: 'beto@acme.example', roles: 'member' }, 'email', 'ya es colaboradora de la empresa'],
      ] as const;
      for (const [fields, field, message] of single) {
        const page = await browser.submit(await browser.open(invitationsUrl), '/org/invitations?', fields);
        t.is(page.status, 400, message);
        t.true(textOf(page).includes(message), `${message}: ${textOf(page)}`);
        if (field !== 'form') {
          t.regex(page.body, new RegExp(`id="${field}-error" class="error">`), field);
          if (field === 'email')
            t.regex(page.body, /id="email"[^>]*aria-invalid="true" aria-describedby="email-error"/);
        }
        t.false(page.body.includes(html), 'typed HTML is shown escaped');
        if ('email' in fields && fields.email.length < 100)
          t.true(page.body.includes(`value="${fields.email.replace(/</g, '&lt;').replace(/>/g, '&gt;')}"`), 'kept');
      }

      const batch = [
        [{ emails: '' }, {}, 'emails', 'Pega al menos un correo electrónico o sube un archivo CSV.'],
        [
          { emails: Array.from({ length: 501 }, (_, i) => `p${i}@acme.example`).join('\n') },
          {},
          'emails',
          'Puedes invitar hasta 500 personas a la vez.',
        ],
        [
          { emails: '' },
          { csv: ['roto.csv', 'email\n"sin cerrar@acme.example\n'] },
          'csv',
          'No pudimos leer roto.csv como CSV.',
        ],
        [{ emails: 'carla@acme.example', roles: [] as string[] }, {}, 'batch-roles', 'Elige al menos un rol.'],
      ] as const;
      for (const [fields, files, field, message] of batch) {
        const page = await submitMultipart(
          browser,
          await browser.open(invitationsUrl),
          '/org/invitations/batch',
          { roles: ['member'], ...fields },
          files as Record<string, [string, string]>,
        );
        t.is(page.status, 400, message);
        t.true(textOf(page).includes(message), `${message}: ${textOf(page).slice(0, 300)}`);
        t.regex(page.body, new RegExp(`id="${field}-error" class="error">`), field);
      }
      t.deepEqual(await invitationsOf(world, acme.row.id), [], 'no invitation was made');

      const memberUrl = `${world.server.issuer}/org/members/${beto.id}?org=${acme.row.slug}`;
      for (const [roles, message] of [
        [[], 'Elige al menos un rol.'],
        [['superuser'], 'Ese rol no existe'],
        [[html], 'Ese rol no existe'],
      ] as const) {
        const page = await browser.submit(await browser.open(memberUrl), '/roles', { roles: [...roles] });
        t.is(page.status, 400);
        t.true(textOf(page).includes(message), message);
        t.regex(page.body, /<fieldset class="role-choice" aria-describedby="member-error">/);
        t.false(page.body.includes(html));
      }
      t.deepEqual((await world.memberships.membership(acme.row.id, beto.id))?.roles, ['member'], 'roles unchanged');

      const search = await browser.open(
        `${world.server.issuer}/org?org=${acme.row.slug}&q=${encodeURIComponent(html)}`,
      );
      t.is(search.status, 200);
      t.false(search.body.includes(html));
      t.regex(textOf(search), /0 resultados para «&lt;script&gt;alert\(1\)&lt;\/script&gt;»/);
      const events = await consoleEvents(world);
      t.deepEqual(events, [], 'nothing was recorded: nothing changed');
    },
  );
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] the company page validates every field by the country, keeps what was typed and saves a valid CUIT`,
    async (t) => {
      const world = await worlds(kind);
      const acme = await world.company();
      await world.company({ name: 'Otra S.A.', country: 'AR', taxId: '30-71234567-1' });
      await world.person('ana@acme.example', acme, ['admin']);
      const { browser } = await world.signedIn('ana@acme.example', `/org/company?org=${acme.row.slug}`);
      const url = `${world.server.issuer}/org/company?org=${acme.row.slug}`;
      const valid = {
        country: 'AR',
        legal_name: 'Acme Sociedad Anónima',
        tax_id: '30-50001091-2',
        employees: '51-200',
        segment: 'technology',
        postal_code: 'C1425DKF',
        address_line: 'Av. Santa Fe',
        address_number: '1234',
        address_complement: 'Piso 5',
      };
      const stored = async () =>
        world.server.umbral.storage.db
          .selectFrom('organizations')
          .select(['country', 'tax_id', 'legal_name', 'postal_code', 'address_line'])
          .where('id', '=', acme.row.id)
          .executeTakeFirstOrThrow();
      const before = await stored();
      const html = '<b>Acme</b>';
      const refusals = [
        [{ ...valid, legal_name: '' }, 'legal_name'],
        [{ ...valid, legal_name: 'A'.repeat(201) }, 'legal_name'],
        [{ ...valid, address_line: html }, 'address_line'],
        [{ ...valid, tax_id: '30-50001091-3' }, 'tax_id', 'El CUIT no es válido: el dígito verificador no coincide'],
        [{ ...valid, postal_code: '12' }, 'postal_code'],
        [{ ...valid, country: '' }, 'country'],
        [{ ...valid, tax_id: '30-71234567-1' }, 'tax_id', 'Ese CUIT ya está registrado para otra empresa.'],
      ] as const;
      for (const [fields, field, message] of refusals) {
        const page = await browser.submit(await browser.open(url), '/org/company', fields);
        t.is(page.status, 400, field);
        t.regex(page.body, new RegExp(`id="${field}-error" class="error">`), field);
        t.regex(page.body, new RegExp(`id="${field}"[^>]*aria-invalid="true"`), field);
        if (message) t.true(textOf(page).includes(message), message);
        t.false(page.body.includes(html), 'typed HTML is shown escaped');
        if (field !== 'legal_name') t.true(page.body.includes('value="Acme Sociedad Anónima"'), 'values kept');
      }
      t.deepEqual(await stored(), before, 'nothing changed');

      const saved = await browser.submit(await browser.open(url), '/org/company', valid);
      t.regex(textOf(saved), /Guardamos los datos de la empresa\./);
      t.like(await stored(), { country: 'AR', tax_id: '30500010912', legal_name: 'Acme Sociedad Anónima' });
      t.true(saved.body.includes('value="30-50001091-2"'), 'shown as Argentina writes it');
      const events = await consoleEvents(world);
      t.deepEqual(
        events.map((e) => e.type),
        ['org_console.company_updated'],
      );
      t.true((events[0]!.data['changed'] as string[]).includes('tax_id'));
    },
  );
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] the collaborators are searched by name or email and listed 25 a page`, async (t) => {
    const world = await worlds(kind);
    const acme = await world.company();
    await world.person('ana@acme.example', acme, ['admin']);
    const db = world.server.umbral.storage.db;
    await sql`insert into users (id, email, name, email_verified)
              select 'p' || g, 'persona' || lpad(g::text, 2, '0') || '@acme.example', 'Persona ' || g, true
              from generate_series(1, 30) g`.execute(db);
    await sql`insert into organization_memberships (organization_id, user_id, roles)
              select ${acme.row.id}, 'p' || g, '["member"]' from generate_series(1, 30) g`.execute(db);
    const { browser, page } = await world.signedIn('ana@acme.example');
    t.regex(textOf(page), /31 colaboradores/);
    t.is(page.body.match(/<tr data-member=/g)?.length, 25);
    t.regex(textOf(page), /Página 1 de 2/);
    const next = /<a href="([^"]+)" rel="next">Siguiente<\/a>/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
    t.truthy(next);
    const second = await browser.open(`${world.server.issuer}${next}`);
    t.is(second.body.match(/<tr data-member=/g)?.length, 6);
    t.true(second.body.includes('data-member="persona30@acme.example"'));
    t.regex(second.body, /rel="prev">Anterior</);

    const byName = await browser.open(`${world.server.issuer}/org?org=${acme.row.slug}&q=PERSONA%2012`);
    t.regex(textOf(byName), /1 resultado para «PERSONA 12»/);
    t.true(byName.body.includes('data-member="persona12@acme.example"'));
    const byEmail = await browser.open(`${world.server.issuer}/org?org=${acme.row.slug}&q=ana%40acme`);
    t.deepEqual(
      [...byEmail.body.matchAll(/data-member="([^"]+)"/g)].map((m) => m[1]),
      ['ana@acme.example'],
    );
    const wildcard = await browser.open(`${world.server.issuer}/org?org=${acme.row.slug}&q=%25`);
    t.regex(textOf(wildcard), /0 resultados/, 'a typed % matches itself');
  });
}
