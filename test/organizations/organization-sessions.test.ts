import test, { type ExecutionContext } from 'ava';
import { decodeJwt } from 'jose';
import { ownStderr, runUmbral } from '../cli/umbral-cli.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { JOURNEY_STORES } from '../support/stores.ts';
import {
  addMember,
  addOrganization,
  HOUR,
  type OrganizationWorld,
  organizationWorlds,
  signInAt,
} from './organization-world.ts';

const worlds = organizationWorlds(test);

/** Ana, a member, signed in at the three portals in one browser; Beto, of another company, at the required one. */
async function signedIn(world: OrganizationWorld, organizationId: string, roles = ['member']) {
  const { portals } = world;
  await addMember(world, organizationId, 'ana@acme.example', roles);
  const browser = new HttpBrowser({ 'accept-language': 'es' });
  const ana = {
    required: await signInAt(portals.required, browser, 'ana@acme.example'),
    optional: await signInAt(portals.optional, browser, 'ana@acme.example'),
    plain: await signInAt(portals.plain, browser, 'ana@acme.example'),
    browser,
  };
  // Beto belongs to another company: the required portal lets him in, and Acme's end is not his.
  const other = await addOrganization(world, { name: 'Other Co' });
  await addMember(world, other.row.id, 'beto@other.example', ['member']);
  const beto = await signInAt(portals.required, new HttpBrowser(), 'beto@other.example');
  return { ana, beto };
}

/** The `umbral` CLI against the running server's database, as an operator in another terminal. */
async function umbral(t: ExecutionContext, world: OrganizationWorld, args: string[]) {
  const result = await runUmbral(args, {
    env: { ...world.store.env, ISSUER: world.server.issuer, ALLOW_PRIVATE_NETWORK_FETCH: 'true' },
  });
  t.is(result.code, 0, ownStderr(result));
  return JSON.parse(result.stdout);
}

async function refreshes(world: OrganizationWorld, portal: keyof OrganizationWorld['portals'], token: string) {
  try {
    await world.portals[portal].rp.refresh(token);
    return true;
  } catch {
    return false;
  }
}

for (const kind of JOURNEY_STORES) {
  test.serial(
    `[${kind}] at ends_at the company's required portals hear a back-channel logout; the others keep theirs`,
    async (t) => {
      const world = await worlds(kind);
      const { server, clock, portals } = world;
      const org = await addOrganization(world, { name: 'Acme', endsAt: new Date(clock.now() + HOUR) });
      const { ana, beto } = await signedIn(world, org.row.id);

      t.like(await server.umbral.contracts.runOnce(), { ended: 0 });
      clock.offset += HOUR;
      t.like(await server.umbral.contracts.runOnce(), { ended: 1 });
      const [token] = await portals.required.receiver.waitFor(1);
      const claims = decodeJwt(token!);
      t.is(claims['sid'], ana.required.sid, 'the portal hears which session');
      t.is(claims.iss, server.issuer);
      t.is(claims.sub, ana.required.tokens.claims()!.sub);
      await server.umbral.contracts.settled();
      t.is(portals.required.receiver.tokens.length, 1, 'only Ana, a member: Beto’s session there stays');
      t.deepEqual(portals.optional.receiver.tokens, [], 'an optional portal keeps working without the company');
      t.deepEqual(portals.plain.receiver.tokens, []);
      t.false(await refreshes(world, 'required', ana.required.tokens.refresh_token!), 'its grant is revoked');
      t.true(await refreshes(world, 'plain', ana.plain.tokens.refresh_token!));
      t.true(await refreshes(world, 'required', beto.tokens.refresh_token!));
      t.truthy((await world.orgs.findById(org.row.id))!.row.ended_at);

      // The Umbral session goes on without that portal; a new authorization there starts afresh.
      const session = await server.umbral.storage.db
        .selectFrom('oidc_models')
        .select('payload')
        .where('model', '=', 'Session')
        .where('uid', 'is not', null)
        .where('account_id', '=', ana.required.tokens.claims()!.sub)
        .executeTakeFirstOrThrow();
      t.deepEqual(Object.keys((session.payload as { authorizations: object }).authorizations).sort(), ['shop', 'wiki']);

      t.like(await server.umbral.contracts.runOnce(), { ended: 0 }, 'once');
      await server.umbral.contracts.settled();
      t.is(portals.required.receiver.tokens.length, 1);
    },
  );

  test.serial(
    `[${kind}] umbral orgs suspend ends members' sessions at required portals at once; resume lifts the hold`,
    async (t) => {
      const world = await worlds(kind);
      const { portals } = world;
      const org = await addOrganization(world, { slug: 'acme' });
      const { ana } = await signedIn(world, org.row.id);
      t.like(await umbral(t, world, ['orgs', 'suspend', '--org', 'acme']), {
        status: 'suspended',
        portal_sessions_ended: 1,
      });
      // The CLI delivered before it exited.
      t.is(portals.required.receiver.tokens.length, 1);
      t.is(decodeJwt(portals.required.receiver.tokens[0]!)['sid'], ana.required.sid);
      t.deepEqual(portals.optional.receiver.tokens, []);
      t.false(await refreshes(world, 'required', ana.required.tokens.refresh_token!));
      // The optional portal keeps its session but, its tokens being for Acme, gets none while Acme is held.
      t.false(await refreshes(world, 'optional', ana.optional.tokens.refresh_token!));
      t.true(await refreshes(world, 'plain', ana.plain.tokens.refresh_token!));

      t.like(await umbral(t, world, ['orgs', 'resume', '--org', 'acme']), { status: 'active' });
      const again = await signInAt(portals.required, ana.browser, 'ana@acme.example');
      t.truthy(again.tokens.access_token, 'the person signs in there again (the session still holds them)');
      t.is(portals.required.receiver.tokens.length, 1, 'resume sends nothing');
    },
  );

  test.serial(
    `[${kind}] umbral orgs remove-member ends that member's sessions at required and optional portals`,
    async (t) => {
      const world = await worlds(kind);
      const { portals } = world;
      const org = await addOrganization(world, { slug: 'acme' });
      const { ana, beto } = await signedIn(world, org.row.id, ['admin']);
      await addMember(world, org.row.id, 'carla@acme.example', ['admin']);
      t.like(await umbral(t, world, ['orgs', 'remove-member', '--org', 'acme', '--email', 'ana@acme.example']), {
        portal_sessions_ended: 2,
      });
      t.is(decodeJwt(portals.required.receiver.tokens[0]!)['sid'], ana.required.sid);
      t.is(decodeJwt(portals.optional.receiver.tokens[0]!)['sid'], ana.optional.sid);
      t.deepEqual(portals.plain.receiver.tokens, [], 'a portal that knows no companies is not told');
      t.true(await refreshes(world, 'plain', ana.plain.tokens.refresh_token!));
      t.false(await refreshes(world, 'optional', ana.optional.tokens.refresh_token!));
      t.true(await refreshes(world, 'required', beto.tokens.refresh_token!), 'another person’s session stays');
      t.is(await world.memberships.membership(org.row.id, ana.required.tokens.claims()!.sub), undefined);
    },
  );

  test.serial(
    `[${kind}] umbral orgs remove ends members' sessions at required portals, then the company`,
    async (t) => {
      const world = await worlds(kind);
      const { portals } = world;
      const org = await addOrganization(world, { slug: 'acme' });
      const { ana } = await signedIn(world, org.row.id);
      t.like(await umbral(t, world, ['orgs', 'remove', '--org', 'acme']), {
        removed: 'acme',
        portal_sessions_ended: 1,
      });
      t.is(decodeJwt(portals.required.receiver.tokens[0]!)['sid'], ana.required.sid);
      t.is(await world.orgs.findById(org.row.id), undefined);
    },
  );
}
