import type { TestFn } from 'ava';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import type { OrganizationFields } from '../../src/organizations/organization-input.ts';
import { OrganizationMail } from '../../src/organizations/organization-mail.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { resetServer } from '../support/empty-store.ts';
import type { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type StoreKind, type TestStore } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { type SharedWorld, worldsPerFile } from '../support/worlds-per-file.ts';

export const PASSWORD = 'correct horse battery';
export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

type Receiver = Awaited<ReturnType<typeof startBackchannelReceiver>>;

/** A portal as the tokens helper registers it: `organization` in its stored metadata. */
export interface Portal {
  clientId: string;
  rp: RelyingParty;
  receiver: Receiver;
}

export interface OrganizationWorld {
  store: TestStore;
  server: RunningUmbral;
  /** The server's clock: real time plus `offset` ms, which a test moves. */
  clock: { offset: number; now(): number };
  /** `organization: required`, `optional`, and a portal that knows no organizations. */
  portals: { required: Portal; optional: Portal; plain: Portal };
  orgs: OrganizationRepository;
  memberships: MembershipRepository;
  invitations: InvitationRepository;
  /** On the server's clock, as the server's own. */
  mail: OrganizationMail;
}

/**
 * Umbral with its clock injected and its scheduler's timer out of the way (tests call
 * `runOnce`), three portals registered for back-channel logout to real HTTP receivers; one per
 * store kind for the file, emptied before each test.
 */
export function organizationWorlds(test: TestFn) {
  return worldsPerFile(test, startWorld);
}

async function startWorld(kind: StoreKind): Promise<SharedWorld<OrganizationWorld>> {
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const store = await createTestStore(kind);
    stops.push(() => store.cleanup());
    const clock = { offset: 0, now: () => Date.now() + clock.offset };
    const server = await startUmbral(
      store,
      { ALLOW_PRIVATE_NETWORK_FETCH: 'true', ORG_SCHEDULER_INTERVAL_SECONDS: '3600' },
      { now: () => clock.now() },
    );
    stops.push(() => server.stop());
    const portal = async (clientId: string, organization: 'required' | 'optional' | undefined): Promise<Portal> => {
      const receiver = await startBackchannelReceiver();
      stops.push(() => receiver.close());
      const redirect = `http://127.0.0.1:9/${clientId}/cb`;
      const client = await server.registerClient({
        clientId,
        name: `Portal ${clientId}`,
        redirectUris: [redirect],
        backchannelLogoutUri: receiver.uri,
        ...(organization ? { organization } : {}),
      });
      return {
        clientId,
        receiver,
        rp: await RelyingParty.discover(server.issuer, clientId, client.client_secret, redirect),
      };
    };
    const db = server.umbral.storage.db;
    const world: OrganizationWorld = {
      store,
      server,
      clock,
      portals: {
        required: await portal('crm', 'required'),
        optional: await portal('wiki', 'optional'),
        plain: await portal('shop', undefined),
      },
      orgs: new OrganizationRepository(db),
      memberships: new MembershipRepository(db),
      invitations: new InvitationRepository(db, () => clock.now()),
      mail: new OrganizationMail({
        issuer: server.issuer,
        productName: server.config.productName,
        now: () => clock.now(),
      }),
    };
    return {
      world,
      async reset() {
        await server.umbral.contracts.settled();
        await resetServer(server);
        clock.offset = 0;
        for (const p of Object.values(world.portals)) p.receiver.tokens.length = 0;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A company on the world's clock (default: active since an hour ago, no end). */
export async function addOrganization(world: OrganizationWorld, fields: Partial<OrganizationFields> = {}) {
  const slug = fields.slug ?? `org-${Math.random().toString(36).slice(2, 10)}`;
  return world.orgs.create({
    name: fields.name ?? `Company ${slug}`,
    slug,
    activatesAt: fields.activatesAt ?? new Date(world.clock.now() - HOUR),
    ...fields,
  });
}

/** A verified user who is a member with these roles. */
export async function addMember(world: OrganizationWorld, organizationId: string, email: string, roles: string[]) {
  const user = await world.server.users.create({
    email,
    password: PASSWORD,
    name: email.split('@')[0],
    emailVerified: true,
  });
  await world.memberships.join({ organizationId, userId: user.id, roles, invitedBy: 'operator' });
  return user;
}

/** Signs the browser in at the portal (through the hosted login the first time) and exchanges the code. */
export async function signInAt(portal: Portal, browser: HttpBrowser, email: string) {
  const { rp } = portal;
  const request = await rp.authorizationRequest();
  let page = await browser.open(request.url, rp.redirectUri);
  if (!page.url.startsWith(rp.redirectUri)) {
    page = await browser.submit(page, '/identifier', { email }, rp.redirectUri);
    page = await browser.submit(page, '/password', { password: PASSWORD }, rp.redirectUri);
  }
  if (!page.url.startsWith(rp.redirectUri)) throw new Error(`no callback from ${portal.clientId}: ${page.url}`);
  const tokens = await rp.exchange(page.url, request);
  return { tokens, sid: tokens.claims()!['sid'] as string };
}

/** Queued mail to `to`, oldest first (the dev outbox keeps the rendered copy once sent). */
export function mailsTo(world: OrganizationWorld, to: string) {
  return world.server.umbral.storage.db
    .selectFrom('mail_queue')
    .selectAll()
    .where('to_address', '=', to)
    .orderBy('created_at')
    .execute();
}
