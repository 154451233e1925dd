import type { TestFn } from 'ava';
import * as oidc from 'openid-client';
import type { OrganizationMode } from '../../src/organizations/client-organization.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import type { OrganizationFields } from '../../src/organizations/organization-input.ts';
import { OrganizationRepository } from '../../src/organizations/organizations.ts';
import { RoleRepository } from '../../src/organizations/roles.ts';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { resetServer } from '../support/empty-store.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { type SharedWorld, worldsPerFile } from '../support/worlds-per-file.ts';

export const PASSWORD = 'correct horse battery';
export const HOUR = 3600_000;
export const REDIRECT = {
  required: 'http://127.0.0.1:9/required/cb',
  optional: 'http://127.0.0.1:9/optional/cb',
  plain: 'http://127.0.0.1:9/plain/cb',
  strict: 'http://127.0.0.1:9/strict/cb',
  third: 'http://127.0.0.1:9/third/cb',
} as const;

export type Receiver = Awaited<ReturnType<typeof startBackchannelReceiver>>;

/**
 * Umbral with four portals: one requiring an organization, one where it is optional, one without
 * the setting, one requiring it whose ID tokens are strict (--strict-id-token-claims), and a third
 * party without the setting (its users consent).
 */
export interface OrganizationWorld {
  server: RunningUmbral;
  receiver: Receiver;
  portals: Record<keyof typeof REDIRECT, RelyingParty>;
  orgs: OrganizationRepository;
  memberships: MembershipRepository;
  roles: RoleRepository;
  /** Moves Umbral's clock (UmbralOptions.now) by `ms`; back to real time before each test. */
  advance(ms: number): void;
  createUser(email: string): Promise<{ id: string; email: string }>;
  /** An organization active since an hour ago, with `members` joined (roles default: member). */
  createOrg(
    slug: string,
    fields?: OrganizationFields,
    members?: Array<{ userId: string; roles?: string[] }>,
  ): Promise<{ id: string; slug: string; name: string }>;
}

const PORTAL_NAMES = {
  required: 'Portal de Beneficios',
  optional: 'CRM de Ventas',
  plain: 'Nube de Clientes',
  strict: 'Portal Estricto',
  third: 'App de Terceros',
};

/** One world per store kind for the test file, emptied before each test. */
export function organizationWorlds(test: TestFn) {
  const world = worldsPerFile(test, startOrganizationWorld);
  return (kind: StoreKind) => world({ kind });
}

async function startOrganizationWorld(settings: { kind: StoreKind }): Promise<SharedWorld<OrganizationWorld>> {
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const store = await createTestStore(settings.kind);
    stops.push(() => store.cleanup());
    const receiver = await startBackchannelReceiver();
    stops.push(() => receiver.close());
    let offset = 0;
    const server = await startUmbral(
      store,
      { ALLOW_PRIVATE_NETWORK_FETCH: 'true' },
      { now: () => Date.now() + offset },
    );
    stops.push(() => server.stop());
    const portals = {} as OrganizationWorld['portals'];
    for (const kind of ['required', 'optional', 'plain', 'strict', 'third'] as const) {
      const organization: OrganizationMode | undefined =
        kind === 'plain' || kind === 'third' ? undefined : kind === 'strict' ? 'required' : kind;
      const client = await server.registerClient({
        clientId: `${kind}-portal`,
        name: PORTAL_NAMES[kind],
        redirectUris: [REDIRECT[kind]],
        backchannelLogoutUri: receiver.uri,
        organization,
        strictIdTokenClaims: kind === 'strict',
        firstParty: kind !== 'third',
      });
      portals[kind] = await RelyingParty.discover(
        server.issuer,
        `${kind}-portal`,
        client.client_secret,
        REDIRECT[kind],
      );
    }
    const db = server.umbral.storage.db;
    const orgs = new OrganizationRepository(db);
    const memberships = new MembershipRepository(db);
    const world: OrganizationWorld = {
      server,
      receiver,
      portals,
      orgs,
      memberships,
      roles: new RoleRepository(db),
      advance(ms) {
        offset += ms;
      },
      async createUser(email) {
        const user = await server.users.create({ email, password: PASSWORD, name: 'Ana Pérez', emailVerified: true });
        return { id: user.id, email: user.email };
      },
      async createOrg(slug, fields = {}, members = []) {
        const org = await orgs.create({
          name: fields.name ?? `${slug[0]!.toUpperCase()}${slug.slice(1)} S.A.`,
          slug,
          activatesAt: new Date(Date.now() + offset - HOUR),
          ...fields,
        });
        for (const member of members) {
          await memberships.join({
            organizationId: org.row.id,
            userId: member.userId,
            roles: member.roles ?? ['member'],
            invitedBy: 'operator',
          });
        }
        return { id: org.row.id, slug: org.row.slug, name: org.row.name };
      },
    };
    return {
      world,
      async reset() {
        offset = 0;
        await resetServer(server);
        receiver.tokens.length = 0;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export function newBrowser(): HttpBrowser {
  return new HttpBrowser({ 'accept-language': 'es-MX' });
}

/** The scopes portals ask for here: the organization's claims come with the `organization` scope. */
export const ORG_SCOPE = 'openid email profile organization';

/** Signs in through the hosted pages; returns wherever the password led (the portal's callback, the picker…). */
export async function signIn(
  rp: RelyingParty,
  browser: HttpBrowser,
  email: string,
  params: Record<string, string> = {},
) {
  return rp.signIn(browser, email, PASSWORD, { scope: ORG_SCOPE, ...params });
}

/** An authorization with the browser's existing session: its callback, or the page it stopped at. */
export async function authorize(rp: RelyingParty, browser: HttpBrowser, params: Record<string, string> = {}) {
  const request = await rp.authorizationRequest({ scope: ORG_SCOPE, ...params });
  const page = await browser.open(request.url, rp.redirectUri);
  return { request, page };
}

export function atPortal(page: Page, rp: RelyingParty): boolean {
  return page.url.startsWith(rp.redirectUri) && new URL(page.url).searchParams.has('code');
}

/** The error the portal received at its callback. */
export function callbackError(page: Page): string | null {
  return new URL(page.url).searchParams.get('error');
}

export async function userinfo(rp: RelyingParty, accessToken: string, sub: string) {
  return oidc.fetchUserInfo(rp.config, accessToken, sub);
}

export async function introspect(rp: RelyingParty, token: string) {
  return oidc.tokenIntrospection(rp.config, token);
}
