import type { TestFn } from 'ava';
import { generate } from 'otplib';
import { OperatorDirectory } from '../../src/admin-console/operators.ts';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { resetServer } from '../support/empty-store.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { BROWSER_STORES, createTestStore, type StoreKind, type TestStore } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { type SharedWorld, worldsPerFile } from '../support/worlds-per-file.ts';

export const PASSWORD = 'correct horse battery';
export const REDIRECT = 'http://127.0.0.1:9/cb';
export const ACR_MFA = 'urn:umbral:acr:mfa';

/**
 * The console's pages run on one store, the one CI runs (as the browser journeys do): they are
 * thin over services whose own tests run on both stores (users' administration, clients,
 * webhooks, the audit log). What the console stores itself, the operators, is tested on both.
 */
export const CONSOLE_STORES: StoreKind[] = BROWSER_STORES;

export type Receiver = Awaited<ReturnType<typeof startBackchannelReceiver>>;

export interface ConsoleWorld {
  store: TestStore;
  server: RunningUmbral;
  /** A portal that hears back-channel logouts. */
  rp: RelyingParty;
  receiver: Receiver;
}

/** One Umbral per store kind for the file, with a portal registered for back-channel logout, emptied before each test. */
export function consoleWorlds(test: TestFn) {
  return worldsPerFile(test, startConsoleWorld);
}

async function startConsoleWorld(kind: StoreKind): Promise<SharedWorld<ConsoleWorld>> {
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const store = await createTestStore(kind);
    stops.push(() => store.cleanup());
    const receiver = await startBackchannelReceiver();
    stops.push(() => receiver.close());
    const server = await startUmbral(store, { ALLOW_PRIVATE_NETWORK_FETCH: 'true' });
    stops.push(() => server.stop());
    const client = await server.registerClient({
      clientId: 'portal',
      name: 'Portal de Beneficios',
      redirectUris: [REDIRECT],
      backchannelLogoutUri: receiver.uri,
    });
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
    return {
      world: { store, server, rp, receiver },
      async reset() {
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

export async function createUser(server: RunningUmbral, email: string, name = 'Ana Pérez') {
  return server.users.create({ email, password: PASSWORD, name, emailVerified: true });
}

/** A user granted the console, as `umbral operators add` does. */
export async function createOperator(server: RunningUmbral, email: string) {
  const user = await createUser(server, email, 'Olga Operadora');
  await new OperatorDirectory(server.umbral.storage.db).add(email, 'test');
  return user;
}

/** An authenticator app for the user; `code()` gives a code of a later 30-second step each time (no replay). */
export async function enrollTotp(server: RunningUmbral, user: { id: string; email: string }) {
  const setup = await server.umbral.mfa.authenticatorApp.start(user.id, user.email);
  const confirmation = await generate({ secret: setup.secret, epoch: Math.floor(Date.now() / 1000) - 30 });
  const outcome = await server.umbral.mfa.authenticatorApp.confirm(user.id, setup.factorId, confirmation, 'Teléfono');
  if (outcome !== 'accepted') throw new Error(`enrollment refused: ${outcome}`);
  let step = 0;
  return { code: () => generate({ secret: setup.secret, epoch: Math.floor(Date.now() / 1000) + 30 * step++ }) };
}

export function newBrowser(language = 'es-MX'): HttpBrowser {
  return new HttpBrowser({ 'accept-language': language });
}

/**
 * Opens an /admin URL and goes through whatever sign-in it asks for: email, password, and the
 * authenticator-app code when `totp` is given and the factor step shows.
 */
export async function openConsole(
  world: ConsoleWorld,
  browser: HttpBrowser,
  path: string,
  email: string,
  totp?: { code(): Promise<string> },
): Promise<Page> {
  let page = await browser.open(`${world.server.issuer}${path}`);
  if (page.body.includes('/identifier"')) page = await browser.submit(page, '/identifier', { email });
  if (page.body.includes('/password"')) page = await browser.submit(page, '/password', { password: PASSWORD });
  if (totp && page.body.includes('/mfa/totp"'))
    page = await browser.submit(page, '/mfa/totp', { code: await totp.code() });
  return page;
}

/** Makes the user's browser sessions look signed in `seconds` ago. */
export async function ageSignIn(server: RunningUmbral, userId: string, seconds: number): Promise<void> {
  await server.umbral.storage.db
    .updateTable('oidc_models')
    .set((eb) => ({
      payload: eb.fn('jsonb_set', [
        eb.ref('payload'),
        eb.val('{loginTs}'),
        eb.val(String(Math.floor(Date.now() / 1000) - seconds)),
      ]) as never,
    }))
    .where('model', '=', 'Session')
    .where('account_id', '=', userId)
    .execute();
}

/** The audit events of a type, oldest first, once the buffer is written. */
export async function auditEvents(server: RunningUmbral, type: string) {
  await server.umbral.audit.flush();
  return server.umbral.storage.db
    .selectFrom('audit_events')
    .selectAll()
    .where('type', '=', type)
    .orderBy('occurred_at')
    .execute();
}
