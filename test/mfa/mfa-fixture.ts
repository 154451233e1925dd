import type { ExecutionContext } from 'ava';
import { generate } from 'otplib';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

export const REDIRECT = 'http://127.0.0.1:9/cb';
export const PASSWORD = 'correct horse battery';
export const ACR_MFA = 'urn:umbral:acr:mfa';
export const ACR_SFA = 'urn:umbral:acr:sfa';

export interface MfaFixture {
  server: RunningUmbral;
  rp: RelyingParty;
  createUser(email: string): Promise<{ id: string; email: string }>;
}

/** Umbral on a test store with a first-party portal, torn down with the test. */
export async function startMfaFixture(
  t: ExecutionContext,
  kind: StoreKind,
  options: { env?: Record<string, string>; client?: { requireMfa?: boolean }; now?: () => number } = {},
): Promise<MfaFixture> {
  const store = await createTestStore(kind);
  const server = await startUmbral(store, options.env ?? {}, options.now ? { now: options.now } : {}).catch(
    async (error: unknown) => {
      await store.cleanup();
      throw error;
    },
  );
  t.teardown(async () => {
    await server.stop();
    await store.cleanup();
  });
  const client = await server.registerClient({
    clientId: 'portal',
    redirectUris: [REDIRECT],
    name: 'Portal de Clientes',
    requireMfa: options.client?.requireMfa ?? false,
  });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
  return {
    server,
    rp,
    async createUser(email) {
      const user = await server.users.create({ email, password: PASSWORD, name: 'Ana Pérez', emailVerified: true });
      return { id: user.id, email: user.email };
    },
  };
}

/**
 * Enrolls an authenticator app for the user, as the setup page would, with a code of the
 * previous 30-second step: the current step stays free for the sign-in that follows.
 */
export async function enrollTotp(server: RunningUmbral, user: { id: string; email: string }): Promise<string> {
  const setup = await server.umbral.mfa.authenticatorApp.start(user.id, user.email);
  const code = await generate({ secret: setup.secret, epoch: Math.floor(Date.now() / 1000) - 30 });
  const outcome = await server.umbral.mfa.authenticatorApp.confirm(user.id, setup.factorId, code, 'Mi teléfono');
  if (outcome !== 'accepted') throw new Error(`enrollment refused: ${outcome}`);
  return setup.secret;
}

export async function currentCode(secret: string): Promise<string> {
  return generate({ secret });
}

/** Where a page would go next: the location of a redirect, else the page's own URL. */
export function locationOf(page: Page): string {
  return page.headers.get('location') ?? page.url;
}

export function newBrowser(): HttpBrowser {
  return new HttpBrowser({ 'accept-language': 'es-MX' });
}

/** The claims of an ID token, decoded without checking (openid-client has checked it already). */
export function idTokenClaims(idToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
