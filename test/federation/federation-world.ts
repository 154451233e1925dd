import type { TestFn } from 'ava';
import type { ParsedMail } from 'mailparser';
import { startSmtpServer, type TestSmtpServer, waitForMail } from '../notify/smtp-test-server.ts';
import { resetServer } from '../support/empty-store.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type StoreKind, type TestStore } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { type SharedWorld, worldsPerFile } from '../support/worlds-per-file.ts';
import { type FakeGoogle, startFakeGoogle } from './fake-google.ts';
import { type FakeMicrosoft, startFakeMicrosoft } from './fake-microsoft.ts';

export const TENANT_ACME = '11111111-1111-4111-8111-111111111111';
export const TENANT_OTHER = '22222222-2222-4222-8222-222222222222';
export const PASSWORD = 'luna llena sobre el volcán';

export interface FederationWorld {
  server: RunningUmbral;
  google: FakeGoogle;
  microsoft: FakeMicrosoft;
  smtp: TestSmtpServer;
  rp: RelyingParty;
  redirectUri: string;
  mailTo(to: string, count?: number): Promise<ParsedMail[]>;
}

/**
 * Umbral with Google and Microsoft configured against two local providers, a real SMTP server
 * for the verification mail, and one first-party portal. `env` overrides (tenant, allow-lists,
 * operator switches) go to Umbral. One world per store kind, environment and portal for the test
 * file, emptied before each test (see worldsPerFile).
 */
export function federationWorlds(test: TestFn) {
  const world = worldsPerFile(test, startFederationWorld);
  return (kind: StoreKind, env: Record<string, string> = {}, redirectUri = 'http://127.0.0.1:9/cb') =>
    world({ kind, env, redirectUri });
}

async function startFederationWorld(settings: {
  kind: StoreKind;
  env: Record<string, string>;
  redirectUri: string;
}): Promise<SharedWorld<FederationWorld>> {
  const { kind, env, redirectUri } = settings;
  // Stopped last-in first-out, and each part is released even if a later one fails to start.
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const smtp = await startSmtpServer();
    stops.push(() => smtp.close());
    const store = await createTestStore(kind);
    stops.push(() => store.cleanup());
    const { google, microsoft, server } = await startFederatedUmbral(store, { SMTP_URL: smtp.url, ...env }, stops);
    const client = await server.registerClient({
      clientId: 'portal',
      redirectUris: [redirectUri],
      name: 'Portal de Clientes',
    });
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, redirectUri);
    return {
      world: {
        server,
        google,
        microsoft,
        smtp,
        rp,
        redirectUri,
        mailTo: (to, count = 1) => waitForMail(smtp, to, count, 10_000),
      },
      async reset() {
        await resetServer(server);
        smtp.forget();
        google.forgetAccounts();
        microsoft.forgetAccounts();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Google and Microsoft stand-ins and an Umbral signing in with both (plus `env`), each stopped
 * through `stops` (last in, first out) by whoever made the world.
 */
export async function startFederatedUmbral(
  store: TestStore,
  env: Record<string, string>,
  stops: Array<() => Promise<void>>,
): Promise<{ google: FakeGoogle; microsoft: FakeMicrosoft; server: RunningUmbral }> {
  const google = await startFakeGoogle();
  stops.push(() => google.close());
  const microsoft = await startFakeMicrosoft([TENANT_ACME, TENANT_OTHER]);
  stops.push(() => microsoft.close());
  const server = await startUmbral(store, {
    GOOGLE_CLIENT_ID: 'umbral-at-google',
    GOOGLE_CLIENT_SECRET: 'google-secret-for-umbral',
    GOOGLE_ISSUER: google.issuer,
    MICROSOFT_CLIENT_ID: 'umbral-at-microsoft',
    MICROSOFT_CLIENT_SECRET: 'microsoft-secret-for-umbral',
    MICROSOFT_AUTHORITY: microsoft.authority,
    ...(process.env['UMBRAL_TEST_LOG_LEVEL'] ? { LOG_LEVEL: process.env['UMBRAL_TEST_LOG_LEVEL'] } : {}),
    ...env,
  });
  stops.push(() => server.stop());
  google.allowClient({
    clientId: 'umbral-at-google',
    clientSecret: 'google-secret-for-umbral',
    redirectUri: `${server.issuer}/federation/google/callback`,
  });
  microsoft.allowClient({
    clientId: 'umbral-at-microsoft',
    clientSecret: 'microsoft-secret-for-umbral',
    redirectUri: `${server.issuer}/federation/microsoft/callback`,
  });
  return { google, microsoft, server };
}
