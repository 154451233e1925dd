import type { TestFn } from 'ava';
import type { ParsedMail } from 'mailparser';
import { MembershipRepository } from '../../src/organizations/memberships.ts';
import type { OrganizationFields } from '../../src/organizations/organization-input.ts';
import { type Organization, OrganizationRepository } from '../../src/organizations/organizations.ts';
import { startSmtpServer, type TestSmtpServer, waitForMail } from '../notify/smtp-test-server.ts';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { resetServer } from '../support/empty-store.ts';
import { openSignedIn } from '../support/hosted-sign-in.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { type SharedWorld, worldsPerFile } from '../support/worlds-per-file.ts';

export const PASSWORD = 'luna llena sobre el volcán';
export const HOUR = 3600_000;

type Receiver = Awaited<ReturnType<typeof startBackchannelReceiver>>;

export interface ConsoleWorld {
  server: RunningUmbral;
  smtp: TestSmtpServer;
  /** The server's clock: real time plus `offset` ms. */
  clock: { offset: number; now(): number };
  /** The company's portal (`organization: required`), registered for back-channel logout. */
  portal: { rp: RelyingParty; receiver: Receiver; clientId: string };
  orgs: OrganizationRepository;
  memberships: MembershipRepository;
  mailTo(to: string, count?: number): Promise<ParsedMail[]>;
  /** An active company ("Acme S.A." unless told), its home portal the world's. */
  company(fields?: Partial<OrganizationFields>): Promise<Organization>;
  /** A verified user with the password, a member of `organization` with `roles` when given. */
  person(email: string, organization?: Organization, roles?: string[]): Promise<{ id: string; email: string }>;
  /** A browser signed in as `email` through the hosted login, on the console's page `path`. */
  signedIn(
    email: string,
    path?: string,
    headers?: Record<string, string>,
  ): Promise<{ browser: HttpBrowser; page: Page }>;
}

/**
 * Umbral with a real SMTP server and one company portal registered for back-channel logout to a
 * real receiver; the server's clock is injected. One world per store kind for the test file,
 * emptied before each test.
 */
export function consoleWorlds(test: TestFn) {
  return worldsPerFile(test, startConsoleWorld);
}

async function startConsoleWorld(kind: StoreKind): Promise<SharedWorld<ConsoleWorld>> {
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const smtp = await startSmtpServer();
    stops.push(() => smtp.close());
    const receiver = await startBackchannelReceiver();
    stops.push(() => receiver.close());
    const store = await createTestStore(kind);
    stops.push(() => store.cleanup());
    const clock = { offset: 0, now: () => Date.now() + clock.offset };
    const server = await startUmbral(
      store,
      { SMTP_URL: smtp.url, ALLOW_PRIVATE_NETWORK_FETCH: 'true', ORG_SCHEDULER_INTERVAL_SECONDS: '3600' },
      { now: () => clock.now() },
    );
    stops.push(() => server.stop());
    const redirect = 'http://127.0.0.1:9/crm/cb';
    const client = await server.registerClient({
      clientId: 'crm',
      name: 'Portal de Clientes',
      redirectUris: [redirect],
      backchannelLogoutUri: receiver.uri,
      organization: 'required',
    });
    const rp = await RelyingParty.discover(server.issuer, 'crm', client.client_secret, redirect);
    const db = server.umbral.storage.db;
    const orgs = new OrganizationRepository(db);
    const memberships = new MembershipRepository(db);
    let companies = 0;
    const world: ConsoleWorld = {
      server,
      smtp,
      clock,
      portal: { rp, receiver, clientId: 'crm' },
      orgs,
      memberships,
      mailTo: (to, count = 1) => waitForMail(smtp, to, count, 10_000),
      async company(fields = {}) {
        companies++;
        return orgs.create({
          name: 'Acme S.A.',
          slug: `acme-${companies}`,
          activatesAt: new Date(clock.now() - HOUR),
          homeClientId: 'crm',
          ...fields,
        });
      },
      async person(email, organization, roles) {
        const user = await server.users.create({
          email,
          password: PASSWORD,
          name: email.split('@')[0]!.replace(/^./, (c) => c.toUpperCase()),
          emailVerified: true,
        });
        if (organization && roles) {
          await memberships.join({
            organizationId: organization.row.id,
            userId: user.id,
            roles,
            invitedBy: 'operator',
          });
        }
        return { id: user.id, email: user.email };
      },
      async signedIn(email, path = '/org', headers = { 'accept-language': 'es' }) {
        const browser = new HttpBrowser(headers);
        const page = await openSignedIn(browser, `${server.issuer}${path}`, email, PASSWORD);
        return { browser, page };
      },
    };
    return {
      world,
      async reset() {
        await resetServer(server);
        smtp.forget();
        clock.offset = 0;
        receiver.tokens.length = 0;
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

/** The link of an invitation email. */
export function invitationLink(mail: ParsedMail, issuer: string): string {
  const link = new RegExp(`${issuer}/invitations/[A-Za-z0-9_-]{43}`).exec(mail.text ?? '')?.[0];
  if (!link) throw new Error(`no invitation link in: ${mail.text}`);
  return link;
}
