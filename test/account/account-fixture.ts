import type { ExecutionContext } from 'ava';
import { startBackchannelReceiver } from '../support/backchannel-receiver.ts';
import { openSignedIn } from '../support/hosted-sign-in.ts';
import type { HttpBrowser, Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

export const REDIRECT = 'http://127.0.0.1:9/cb';
export const PASSWORD = 'correct horse battery';

export type Receiver = Awaited<ReturnType<typeof startBackchannelReceiver>>;

export interface AccountWorld {
  server: RunningUmbral;
  rp: RelyingParty;
  receiver: Receiver;
  user: Awaited<ReturnType<RunningUmbral['users']['create']>>;
}

/** Umbral (dev outbox mail), a user, and a portal registered for back-channel logout. */
export async function accountWorld(
  t: ExecutionContext,
  kind: StoreKind,
  options: { env?: Record<string, string>; singleSession?: boolean } = {},
): Promise<AccountWorld> {
  // Teardowns run last-in first-out, and each part is released even if a later one fails to start.
  const store = await createTestStore(kind);
  t.teardown(() => store.cleanup());
  const receiver = await startBackchannelReceiver();
  t.teardown(() => receiver.close());
  const server = await startUmbral(store, { ALLOW_PRIVATE_NETWORK_FETCH: 'true', ...options.env });
  t.teardown(() => server.stop());
  const client = await server.registerClient({
    clientId: 'portal',
    name: 'Portal de Beneficios',
    redirectUris: [REDIRECT],
    backchannelLogoutUri: receiver.uri,
    singleSession: options.singleSession,
  });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
  const user = await server.users.create({
    email: 'ana@example.com',
    password: PASSWORD,
    name: 'Ana Pérez',
    emailVerified: true,
  });
  return { server, rp, receiver, user };
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
