import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext, TestFn } from 'ava';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { RelyingParty } from '../support/relying-party.ts';
import { BROWSER_STORES, createTestStore, type StoreKind, type TestStore } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const PASSWORD = 'correct horse battery';
export const CREDENTIALS_ERROR = 'El correo electrónico o la contraseña no son correctos.';

/** Debian's Chromium, headless, with nothing that phones home; Playwright gives it a fresh temp profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** A fresh context (cookies, cache, history of its own) speaking Spanish, as the portals' users do. */
export async function newContext(
  t: ExecutionContext,
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: 'es-MX', ...options });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(20_000);
  t.teardown(() => context.close());
  const page = await context.newPage();
  return { context, page };
}

export interface Portal {
  /** The loopback server the portal's redirect URIs point at. */
  origin: string;
  redirectUri: string;
  postLogoutUri: string;
  /** A page whose inline script changes its title: shows whether a context really runs no JavaScript. */
  jsProbeUri: string;
  close(): Promise<void>;
}

/** The portal's side of the redirects: answers 200 "ok" to /cb and /signed-out, nothing else. */
export async function startPortal(): Promise<Portal> {
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pathname === '/cb' || pathname === '/signed-out') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
    } else if (pathname === '/js-probe') {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><title>sin-js</title><script>document.title = "con-js"</script>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    redirectUri: `${origin}/cb`,
    postLogoutUri: `${origin}/signed-out`,
    jsProbeUri: `${origin}/js-probe`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One Umbral per store for a test file, with the portal registered as a first-party client. */
export interface BrowserFixture {
  kind: StoreKind;
  store: TestStore;
  server: RunningUmbral;
  portal: Portal;
  rp: RelyingParty;
  /** A user of their own for each test, so tests running side by side share no session or throttle state. */
  createUser(email: string): Promise<{ id: string; email: string }>;
  close(): Promise<void>;
}

export async function startFixture(kind: StoreKind): Promise<BrowserFixture> {
  const store = await createTestStore(kind);
  const started: Array<() => Promise<void>> = [() => store.cleanup()];
  const close = async () => {
    for (const stop of started.reverse()) await stop();
  };
  try {
    const server = await startUmbral(store);
    started.push(() => server.stop());
    const portal = await startPortal();
    started.push(() => portal.close());
    const client = await server.registerClient({
      clientId: 'portal',
      name: 'Portal de Clientes',
      redirectUris: [portal.redirectUri],
      postLogoutRedirectUris: [portal.postLogoutUri],
    });
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, portal.redirectUri);
    return {
      kind,
      store,
      server,
      portal,
      rp,
      async createUser(email) {
        const user = await server.users.create({ email, password: PASSWORD, name: 'Ana Pérez', emailVerified: true });
        return { id: user.id, email: user.email };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * One Chromium for the test file and one Umbral per store of `stores` (those its tests run on),
 * started in test.before and stopped in test.after.always, even when part of the start-up failed.
 */
export function browserSuite(test: TestFn, stores: readonly StoreKind[] = BROWSER_STORES) {
  let browser: Browser | undefined;
  const fixtures = new Map<StoreKind, BrowserFixture>();
  test.before(async () => {
    const results = await Promise.allSettled([
      launchChromium().then((launched) => {
        browser = launched;
      }),
      ...stores.map((kind) =>
        startFixture(kind).then((fixture) => {
          fixtures.set(kind, fixture);
        }),
      ),
    ]);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  });
  test.after.always(async () => {
    await browser?.close();
    for (const fixture of fixtures.values()) await fixture.close();
  });
  return {
    browser: () => browser!,
    fixture: (kind: StoreKind) => fixtures.get(kind)!,
  };
}

/** Headings of Umbral's dead-end pages: seeing one where a step was expected fails at once, saying which. */
const DEAD_ENDS = ['El formulario venció', 'Algo salió mal', 'Esta página ya no es válida'];

function deadEnd(page: Page) {
  return page.getByRole('heading', { level: 1, name: new RegExp(`^(${DEAD_ENDS.join('|')})$`) });
}

async function describe(page: Page): Promise<string> {
  const text = await page
    .locator('body')
    .innerText()
    .catch(() => '(unreadable)');
  return `${page.url()}: ${text.replace(/\s+/g, ' ').trim()}`;
}

/** Waits for `arrived`, unless one of the dead-end pages shows first: then fails with what the page says. */
async function unlessDeadEnd(page: Page, what: string, arrived: Promise<unknown>): Promise<void> {
  const failed = deadEnd(page)
    .waitFor()
    .then(() => true);
  const settled = arrived.then(() => false);
  failed.catch(() => undefined);
  settled.catch(() => undefined);
  if (await Promise.race([settled, failed]))
    throw new Error(`expected ${what}, got a dead end: ${await describe(page)}`);
}

/** Waits until the page is on `prefix` (a redirect target), and returns that URL. */
export async function landOn(page: Page, prefix: string): Promise<URL> {
  await unlessDeadEnd(
    page,
    prefix,
    page.waitForURL((url) => url.href.startsWith(prefix)),
  );
  return new URL(page.url());
}

/** Waits for the page whose heading is `name`. */
export async function expectHeading(page: Page, name: string): Promise<void> {
  await unlessDeadEnd(page, `the page "${name}"`, page.getByRole('heading', { level: 1, name, exact: true }).waitFor());
}

/** The identifier step: types the email and clicks "Siguiente"; returns once the password step shows. */
export async function submitEmail(page: Page, email: string): Promise<void> {
  await page.getByLabel('Correo electrónico').fill(email);
  await page.getByRole('button', { name: 'Siguiente' }).click();
  await expectHeading(page, 'Escribe tu contraseña');
}

/** The password step: types the password and clicks "Iniciar sesión". */
export async function submitPassword(page: Page, password: string): Promise<void> {
  await page.getByLabel('Contraseña', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Iniciar sesión' }).click();
}

/** Signs in through the hosted pages; returns the authorization request and the callback URL the browser landed on. */
export async function signIn(fixture: BrowserFixture, page: Page, email: string, params: Record<string, string> = {}) {
  const request = await fixture.rp.authorizationRequest(params);
  await page.goto(request.url);
  await submitEmail(page, email);
  await submitPassword(page, PASSWORD);
  const callback = await landOn(page, fixture.portal.redirectUri);
  return { request, callback };
}

/** Signs of a server error page rather than one of ours. */
export const STACK_TRACE = /\bat [\w.<>]+ \(|node_modules|\.ts:\d+|Error: |Internal Server Error/;
