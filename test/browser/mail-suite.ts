import type { ExecutionContext, TestFn } from 'ava';
import type { ParsedMail } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import { receivedBy, startSmtpServer, type TestSmtpServer, waitForMail } from '../notify/smtp-test-server.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { BROWSER_STORES, createTestStore, type StoreKind } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { launchChromium, newContext, type Portal, startPortal } from './browser-support.ts';

/** Umbral sending its mail over SMTP to a server started for the test file, and one portal. */
export interface MailWorld {
  kind: StoreKind;
  server: RunningUmbral;
  smtp: TestSmtpServer;
  portal: Portal;
  rp: RelyingParty;
  /** Waits until `count` messages reached `to` over SMTP; returns them, oldest first. */
  mailTo(to: string, count?: number): Promise<ParsedMail[]>;
  /** Messages that reached `to` so far. */
  receivedBy(to: string): ParsedMail[];
}

async function startMailWorld(kind: StoreKind, started: Array<() => Promise<void>>): Promise<MailWorld> {
  const smtp = await startSmtpServer();
  started.push(() => smtp.close());
  const store = await createTestStore(kind);
  started.push(() => store.cleanup());
  const server = await startUmbral(store, { SMTP_URL: smtp.url });
  started.push(() => server.stop());
  const portal = await startPortal();
  started.push(() => portal.close());
  const client = await server.registerClient({
    clientId: 'portal',
    name: 'Portal de Clientes',
    redirectUris: [portal.redirectUri],
  });
  const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, portal.redirectUri);
  return {
    kind,
    server,
    smtp,
    portal,
    rp,
    receivedBy: (to) => receivedBy(smtp, to),
    mailTo: (to, count = 1) => waitForMail(smtp, to, count, 15_000),
  };
}

/**
 * One Chromium and one mail-sending Umbral per store for a test file, started in test.before
 * and stopped in test.after.always (whatever part of the start-up got done).
 */
export function mailSuite(test: TestFn) {
  let browser: Browser | undefined;
  const worlds = new Map<StoreKind, MailWorld>();
  const stops: Array<() => Promise<void>> = [];
  test.before(async () => {
    browser = await launchChromium();
    for (const kind of BROWSER_STORES) worlds.set(kind, await startMailWorld(kind, stops));
  });
  test.after.always(async () => {
    await browser?.close();
    for (const stop of stops.reverse()) await stop();
  });
  return {
    worlds,
    browser: () => browser!,
    /** A context with JavaScript off (checked: an inline script cannot retitle a page), speaking Spanish. */
    async noJsPage(t: ExecutionContext, world: MailWorld): Promise<Page> {
      const { page } = await newContext(t, browser!, { javaScriptEnabled: false });
      await page.goto(world.portal.jsProbeUri);
      t.is(await page.title(), 'sin-js', 'JavaScript is off in this context');
      return page;
    },
  };
}
