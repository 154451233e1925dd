import type { TestFn } from 'ava';
import type { ParsedMail } from 'mailparser';
import { InvitationRepository } from '../../src/organizations/invitations.ts';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import { type Organization, OrganizationRepository } from '../../src/organizations/organizations.ts';
import type { FakeGoogle } from '../federation/fake-google.ts';
import type { FakeMicrosoft } from '../federation/fake-microsoft.ts';
import { startFederatedUmbral } from '../federation/federation-world.ts';
import { startSmtpServer, type TestSmtpServer, waitForMail } from '../notify/smtp-test-server.ts';
import { resetServer } from '../support/empty-store.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { createTestStore, type StoreKind } from '../support/stores.ts';
import type { RunningUmbral } from '../support/umbral-server.ts';
import { type SharedWorld, worldsPerFile } from '../support/worlds-per-file.ts';
import { type InitiatingPortal, startInitiatingPortal } from './initiating-portal.ts';

export const PASSWORD = 'luna llena sobre el volcán';
/** A home portal without initiate_login_uri: members land on its first redirect URI's origin. */
export const PLAIN_PORTAL = { clientId: 'plain-portal', redirectUri: 'https://plain.example/app/cb' };

export interface InvitationWorld {
  server: RunningUmbral;
  google: FakeGoogle;
  microsoft: FakeMicrosoft;
  smtp: TestSmtpServer;
  /** The home portal `portal`, with an initiate_login_uri, over HTTPS. */
  portal: InitiatingPortal;
  organizations: OrganizationRepository;
  invitations: InvitationRepository;
  memberships: MembershipRepository;
  mailTo(to: string, count?: number): Promise<ParsedMail[]>;
  /** A browser without JavaScript that can reach the portal too. */
  browser(headers?: Record<string, string>): HttpBrowser;
  /** An active company whose home portal is `portal` unless told otherwise. */
  company(fields?: { name?: string; slug?: string; homeClientId?: string | null }): Promise<Organization>;
  /** An invitation with its link, made as the operator's CLI makes it. */
  invite(
    organization: Organization,
    email: string,
    options?: { roles?: string[]; invitedBy?: string | null; repository?: InvitationRepository },
  ): Promise<{ id: string; token: string; link: string }>;
}

/**
 * Umbral with Google and Microsoft stand-ins, a real SMTP server, and two home portals: `portal`
 * (openid-client behind HTTPS, with an initiate-login endpoint) and `plain-portal` (no
 * initiate_login_uri). One world per store kind for the test file, emptied before each test.
 */
export function invitationWorlds(test: TestFn) {
  const world = worldsPerFile(test, startInvitationWorld);
  return (kind: StoreKind) => world({ kind });
}

async function startInvitationWorld({ kind }: { kind: StoreKind }): Promise<SharedWorld<InvitationWorld>> {
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const smtp = await startSmtpServer();
    stops.push(() => smtp.close());
    const portal = await startInitiatingPortal();
    stops.push(() => portal.close());
    const store = await createTestStore(kind);
    stops.push(() => store.cleanup());
    const { google, microsoft, server } = await startFederatedUmbral(store, { SMTP_URL: smtp.url }, stops);
    const client = await server.registerClient({
      clientId: 'portal',
      redirectUris: [portal.redirectUri],
      name: 'Portal de Clientes',
      initiateLoginUri: portal.initiateLoginUri,
    });
    await server.registerClient({
      clientId: PLAIN_PORTAL.clientId,
      redirectUris: [PLAIN_PORTAL.redirectUri],
      name: 'Portal sin inicio propio',
    });
    await portal.connect(server.issuer, 'portal', client.client_secret);
    const db = server.umbral.storage.db;
    const organizations = new OrganizationRepository(db);
    const invitations = new InvitationRepository(db);
    let companies = 0;
    return {
      world: {
        server,
        google,
        microsoft,
        smtp,
        portal,
        organizations,
        invitations,
        memberships: new MembershipRepository(db),
        mailTo: (to, count = 1) => waitForMail(smtp, to, count, 10_000),
        browser: (headers = {}) => new HttpBrowser(headers, portal.fetch),
        async company(fields = {}) {
          companies++;
          return organizations.create({
            name: fields.name ?? 'Acme S.A.',
            slug: fields.slug ?? `acme-${companies}`,
            activatesAt: new Date(Date.now() - 3600_000),
            homeClientId: fields.homeClientId === undefined ? 'portal' : fields.homeClientId,
          });
        },
        async invite(organization, email, options = {}) {
          const { invitation, token } = await (options.repository ?? invitations).invite({
            organizationId: organization.row.id,
            email,
            roles: options.roles ?? ['member'],
            invitedBy: options.invitedBy ?? null,
            withToken: true,
          });
          return { id: invitation.id, token: token!, link: `${server.issuer}/invitations/${token}` };
        },
      },
      async reset() {
        await resetServer(server);
        smtp.forget();
        google.forgetAccounts();
        microsoft.forgetAccounts();
        portal.forget();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The text a person reads: tags, hidden fields and the CSRF token aside. */
export function textOf(page: Page): string {
  return page.body
    .replace(/<input[^>]*type="hidden"[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Every URL the browser requested or was sent to: no invitation token may be in any but the first. */
export function urlsSeen(browser: HttpBrowser): string[] {
  return browser.history.flatMap((page) => [page.url, page.headers.get('location') ?? '']).filter(Boolean);
}
