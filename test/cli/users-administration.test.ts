import test from 'ava';
import { decodeJwt } from 'jose';
import { type AccountWorld, accountWorlds, PASSWORD } from '../account/account-fixture.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { COMMAND_STORES } from '../support/stores.ts';
import { ownStderr, runUmbral } from './umbral-cli.ts';

// The CLI next to a running server, as an operator runs it: over the embedded database's socket
// (PGlite) or DATABASE_URL, with the server's ISSUER so its logout tokens are the server's own.
const accountWorld = accountWorlds(test);
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';

function cliEnv({ server }: AccountWorld): Record<string, string> {
  return {
    DATA_DIR: server.config.dataDir,
    ...(server.config.databaseUrl ? { DATABASE_URL: server.config.databaseUrl } : {}),
    ISSUER: server.issuer,
    ALLOW_PRIVATE_NETWORK_FETCH: 'true',
    USER: 'maria',
  };
}

async function umbral(world: AccountWorld, ...args: string[]) {
  const result = await runUmbral(args, { env: cliEnv(world) });
  return { ...result, json: result.code === 0 ? (JSON.parse(result.stdout) as unknown) : undefined };
}

async function portalSignIn({ rp }: AccountWorld, browser: HttpBrowser) {
  const { request, callback } = await rp.signIn(browser, 'ana@example.com', PASSWORD);
  const tokens = await rp.exchange(callback.url, request);
  return { tokens, sid: tokens.claims()!['sid'] as string };
}

for (const kind of COMMAND_STORES) {
  test.serial(`[${kind}] users sessions lists them; --end ends one or all, and the portal hears each`, async (t) => {
    const world = await accountWorld(kind);
    const { rp, receiver, server, user } = world;
    const laptop = await portalSignIn(world, new HttpBrowser({ 'user-agent': FIREFOX }));
    const phone = await portalSignIn(world, new HttpBrowser());

    const listed = await umbral(world, 'users', 'sessions', '--email', 'ana@example.com');
    t.is(listed.code, 0, listed.stderr);
    const sessions = listed.json as Array<{
      uid: string;
      browser: string | null;
      os: string | null;
      portals: string[];
    }>;
    t.is(sessions.length, 2);
    t.true(sessions.every((s) => s.portals.includes('Portal de Beneficios')));
    const firefox = sessions.find((s) => s.browser === 'Firefox');
    t.is(firefox?.os, 'Linux');

    const one = await umbral(
      world,
      'users',
      'sessions',
      '--email',
      'ana@example.com',
      '--end',
      // A session uid may start with "-": the `=` form, as the CLI's own message says.
      `--session=${firefox!.uid}`,
    );
    t.deepEqual(one.json, { email: 'ana@example.com', sessions_ended: 1 }, one.stderr);
    // The command waited for the delivery: the portal has heard it once it exits.
    t.is(receiver.tokens.length, 1);
    t.is(decodeJwt(receiver.tokens[0]!)['sid'], laptop.sid);
    await t.throwsAsync(rp.refresh(laptop.tokens.refresh_token!));
    t.truthy((await rp.refresh(phone.tokens.refresh_token!)).access_token, 'the other session lives on');

    const gone = await umbral(world, 'users', 'sessions', '--email', 'ana@example.com', '--end', '--session', 'nope');
    t.is(gone.code, 1);
    t.is(ownStderr(gone).trim(), 'umbral: no session nope of that user');

    const all = await umbral(world, 'users', 'sessions', '--email', 'ana@example.com', '--end');
    t.deepEqual(all.json, { email: 'ana@example.com', sessions_ended: 1 });
    t.is(receiver.tokens.length, 2);
    t.deepEqual((await umbral(world, 'users', 'sessions', '--email', 'ana@example.com')).json, []);

    await server.umbral.audit.flush();
    const ended = (await server.umbral.audit.query({ userId: user.id, type: 'session.ended' })).events;
    t.is(ended.length, 2);
    t.true(ended.every((e) => e.actor.kind === 'operator' && e.actor.id === 'maria'));
  });

  test.serial(`[${kind}] users disable, show, enable and remove, audited with the operator as actor`, async (t) => {
    const world = await accountWorld(kind);
    const { rp, receiver, server, user } = world;
    const signedIn = await portalSignIn(world, new HttpBrowser());

    const disabled = await umbral(world, 'users', 'disable', '--email', 'Ana@Example.com');
    t.deepEqual(disabled.json, { email: 'ana@example.com', disabled: true, changed: true, sessions_ended: 1 });
    t.is(receiver.tokens.length, 1, 'the portal heard the logout before the command exited');
    await t.throwsAsync(rp.refresh(signedIn.tokens.refresh_token!));
    const refused = await rp.signIn(new HttpBrowser({ 'accept-language': 'en' }), 'ana@example.com', PASSWORD);
    t.regex(refused.callback.body, /This account is disabled/);

    const shown = await umbral(world, 'users', 'show', '--email', 'ana@example.com');
    t.like(shown.json, { id: user.id, disabled: true, has_password: true, sessions: 0, factors: [] });
    t.false(shown.stdout.includes('argon2'));

    const enabled = await umbral(world, 'users', 'enable', '--email', 'ana@example.com');
    t.deepEqual(enabled.json, { email: 'ana@example.com', disabled: false, changed: true });
    await portalSignIn(world, new HttpBrowser());

    const removed = await umbral(world, 'users', 'remove', '--email', 'ana@example.com');
    t.like(removed.json, { email: 'ana@example.com', removed: true, sessions_ended: 1, memberships_removed: 0 });
    t.is(await server.users.findById(user.id), undefined);

    await server.umbral.audit.flush();
    const events = (await server.umbral.audit.query({ userId: user.id })).events.reverse();
    const operatorEvents = events.filter((e) => e.actor.kind === 'operator').map((e) => e.type);
    t.deepEqual(operatorEvents, ['session.ended', 'user.disabled', 'user.enabled', 'session.ended', 'user.deleted']);
    t.true(events.filter((e) => e.actor.kind === 'operator').every((e) => e.actor.id === 'maria'));
    t.like(events.find((e) => e.type === 'user.disabled')!.data, { via: 'cli', sessions_ended: 1 });
  });

  test.serial(`[${kind}] bad input to every users command is a clear error and changes nothing`, async (t) => {
    const world = await accountWorld(kind);
    const { server, user } = world;
    await portalSignIn(world, new HttpBrowser());
    const before = JSON.stringify(await server.users.list());
    const cases: Array<[string[], number, string]> = [
      [['users'], 2, '"users" needs a subcommand: add, list, search, show, update, disable, enable, remove'],
      [['users', 'disable'], 2, '"users disable" needs --email'],
      [['users', 'enable', '--email'], 2, '--email needs a value'],
      [['users', 'remove', '--email', 'a@b.example', '--force'], 2, 'unknown option --force for "users remove"'],
      [['users', 'show', '--email', 'nadie@example.com'], 1, 'no user with email nadie@example.com'],
      [['users', 'disable', '--email', 'not an email'], 1, '"not an email" is not a valid email address'],
      [['users', 'remove', '--email', 'nadie@example.com'], 1, 'no user with email nadie@example.com'],
      [['users', 'sessions', '--email', 'ana@example.com', '--session', 'x'], 2, '--session goes with --end'],
      [['users', 'sessions', '--email', 'nadie@example.com', '--end'], 1, 'no user with email nadie@example.com'],
      [['users', 'reset-mfa', '--email', 'nadie@example.com'], 1, 'no user with email nadie@example.com'],
      [['users', 'send-password-reset', '--email', 'nadie@example.com'], 1, 'no user with email nadie@example.com'],
      [['users', 'search', '--limit', '0'], 1, 'limit must be a whole number from 1 to 200'],
      [['users', 'search', '--limit', 'ten'], 1, 'limit must be a whole number from 1 to 200'],
      [['users', 'search', '--cursor', 'zzz'], 1, 'cursor is not one this search returned'],
      [['users', 'search', '--disabled', '--enabled'], 2, 'give either --disabled or --enabled, not both'],
      [['users', 'update', '--email', 'ana@example.com'], 2, '"users update" needs something to change'],
      [['users', 'update', '--email', 'ana@example.com', '--phone', '55 1234'], 1, 'phone must be in E.164 form'],
      [['users', 'update', '--email', 'ana@example.com', '--new-email', 'x@'], 1, '"x@" is not a valid email address'],
      [
        ['users', 'add', '--email', 'ANA@example.com', '--password', 'another long password'],
        1,
        'a user with email ANA@example.com already exists',
      ],
    ];
    for (const [args, code, message] of cases) {
      const result = await umbral(world, ...args);
      t.is(result.code, code, args.join(' '));
      t.is(result.stdout, '', args.join(' '));
      t.true(ownStderr(result).includes(message), `${args.join(' ')}: ${result.stderr}`);
    }
    t.is(JSON.stringify(await server.users.list()), before, 'no user changed');
    t.like(
      (await umbral(world, 'users', 'show', '--email', 'ana@example.com')).json,
      { sessions: 1 },
      'nor any session',
    );
    await server.umbral.audit.flush();
    const changes = (await server.umbral.audit.query({ userId: user.id })).events.filter(
      (e) => e.actor.kind === 'operator',
    );
    t.deepEqual(changes, [], 'nothing audited as changed');
  });
}
