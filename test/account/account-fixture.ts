import type { TestFn } from 'ava';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { resetServer } from '../support/empty-store.ts';
import { openSignedIn } from '../support/hosted-sign-in.ts';
import type { HttpBrowser, Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { type SharedWorld, worldsPerFile } from '../support/worlds-per-file.ts';

export const REDIRECT = 'http://127.0.0.1:9/cb';
export const PASSWORD = 'correct horse battery';

export type Receiver = Awaited<ReturnType<typeof startBackchannelReceiver>>;

export interface AccountWorld {
  server: RunningUmbral;
  rp: RelyingParty;
  receiver: Receiver;
  user: Awaited<ReturnType<RunningUmbral['users']['create']>>;
}

const USER = { email: 'ana@example.com', password: PASSWORD, name: 'Ana Pérez', emailVerified: true };

/**
 * Umbral (dev outbox mail), a user, and a portal registered for back-channel logout: one per store
 * kind and options for the test file, emptied before each test (see worldsPerFile) and given the
 * user afresh.
 */
export function accountWorlds(test: TestFn) {
  const world = worldsPerFile(test, startAccountWorld);
  return (kind: StoreKind, options: { env?: Record<string, string>; singleSession?: boolean } = {}) =>
    world({ kind, env: options.env ?? {}, singleSession: options.singleSession ?? false });
}

async function startAccountWorld(settings: {
  kind: StoreKind;
  env: Record<string, string>;
  singleSession: boolean;
}): Promise<SharedWorld<AccountWorld>> {
  // Stopped last-in first-out, and each part is released even if a later one fails to start.
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const store = await createTestStore(settings.kind);
    stops.push(() => store.cleanup());
    const receiver = await startBackchannelReceiver();
    stops.push(() => receiver.close());
    const server = await startUmbral(store, { ALLOW_PRIVATE_NETWORK_FETCH: 'true', ...settings.env });
    stops.push(() => server.stop());
    const client = await server.registerClient({
      clientId: 'portal',
      name: 'Portal de Beneficios',
      redirectUris: [REDIRECT],
      backchannelLogoutUri: receiver.uri,
      singleSession: settings.singleSession,
    });
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
    const world: AccountWorld = { server, rp, receiver, user: await server.users.create(USER) };
    return {
      world,
      async reset() {
        await resetServer(server);
        receiver.tokens.length = 0;
        world.user = await server.users.create(USER);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Opens an /account URL in `browser`, signing in through the hosted login when asked to. */
export async function openAccount(
  server: RunningUmbral,
  browser: HttpBrowser,
  path: string,
  email: string,
  password: string,
): Promise<Page> {
  return openSignedIn(browser, `${server.issuer}${path}`, email, password);
}

/** Emails queued to `to` (the dev outbox keeps them in mail_queue), oldest first. */
export async function mailsTo(server: RunningUmbral, to: string) {
  return server.umbral.storage.db
    .selectFrom('mail_queue')
    .selectAll()
    .where('to_address', '=', to)
    .orderBy('created_at')
    .execute();
}

/** The first link under ISSUER + `path` in a queued email, whether still pending (data) or sent to the dev outbox (text copy). */
export function linkIn(
  mail: { data: unknown; text_body: string | null },
  issuer: string,
  path: string,
): string | undefined {
  const text = `${JSON.stringify(mail.data)} ${mail.text_body ?? ''}`;
  const escaped = `${issuer}${path}`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`${escaped}[^\\s"<]*`).exec(text)?.[0];
}
