import type { TestFn } from 'ava';
import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import { startSmtpServer, type TestSmtpServer, waitForMail } from '../notify/smtp-test-server.ts';
import { resetServer } from '../support/empty-store.ts';
import type { HttpBrowser, Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { worldsPerFile } from '../support/worlds-per-file.ts';

export const REDIRECT = 'http://127.0.0.1:9/cb';
export const PASSWORD = 'luna llena sobre el volcán';

export interface SignUpWorld {
  server: RunningUmbral;
  smtp: TestSmtpServer;
  rp: RelyingParty;
  /** Waits until `count` messages reached `to` over SMTP; returns them, oldest first. */
  mailTo(to: string, count?: number): Promise<ParsedMail[]>;
}

/**
 * Umbral with its real mailer sending to an SMTP server, and one first-party portal: one per store
 * kind and environment for the test file, emptied before each test (see worldsPerFile).
 */
export function signUpWorlds(test: TestFn) {
  type Settings = { kind: StoreKind; env: Record<string, string>; clientUri: string | undefined };
  const world = worldsPerFile(test, async ({ kind, env, clientUri }: Settings) => {
    const stops: Array<() => Promise<void>> = [];
    const close = async () => {
      for (const stop of stops.reverse()) await stop();
    };
    try {
      const smtp = await startSmtpServer();
      stops.push(() => smtp.close());
      const store = await createTestStore(kind);
      stops.push(() => store.cleanup());
      const server = await startUmbral(store, { SMTP_URL: smtp.url, ...env });
      stops.push(() => server.stop());
      const client = await server.registerClient({
        clientId: 'portal',
        redirectUris: [REDIRECT],
        name: 'Portal de Clientes',
      });
      if (clientUri) {
        // Not an option of `clients add`: set in the stored metadata, before the server first reads (and caches) it.
        await server.umbral.storage.db
          .updateTable('clients')
          .set({ metadata: sql`metadata || ${JSON.stringify({ client_uri: clientUri })}::jsonb` as never })
          .where('client_id', '=', 'portal')
          .execute();
      }
      const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
      return {
        world: { server, smtp, rp, mailTo: (to: string, count = 1) => waitForMail(smtp, to, count, 10_000) },
        async reset() {
          await resetServer(server);
          smtp.forget();
        },
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  });
  return (
    kind: StoreKind,
    env: Record<string, string> = {},
    portal: { clientUri?: string } = {},
  ): Promise<SignUpWorld> => world({ kind, env, clientUri: portal.clientUri });
}

export function codeOf(mail: ParsedMail): string {
  return /^\s*(\d{6})\s*$/m.exec(mail.text ?? '')![1]!;
}

export function linkOf(mail: ParsedMail): string {
  return /^(http\S+\/verify-email\?token=\S+)$/m.exec(mail.text ?? '')![1]!;
}

export function signUpFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    name: 'Ana Pérez',
    email: 'ana@example.com',
    phone_country: 'MX',
    phone: '55 1234 5678',
    password: PASSWORD,
    password_confirmation: PASSWORD,
    terms: 'accepted',
    ...overrides,
  };
}

/** From the portal to the sign-up page, through the "Crear cuenta" link of the login page. */
export async function openSignUp(world: SignUpWorld, browser: HttpBrowser, params: Record<string, string> = {}) {
  const request = await world.rp.authorizationRequest({ scope: 'openid email profile phone', ...params });
  const identifier = await browser.open(request.url, REDIRECT);
  const href = /href="([^"]*\/signup)"/.exec(identifier.body)![1]!;
  const page = await browser.open(new URL(href, identifier.url).href);
  return { request, identifier, page };
}

/** The text a person reads: tags, hidden fields and the CSRF token aside. */
export function visibleText(page: Page): string {
  return page.body
    .replace(/<input[^>]*type="hidden"[^>]*>/g, '')
    .replace(/\/interaction\/[^/"?]+/g, '/interaction/UID')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
