import test from 'ava';
import { resetServer } from '../support/empty-store.ts';
import { HttpBrowser, type Page } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';
import { type SharedWorld, worldsPerFile } from '../support/worlds-per-file.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

/** One server per store kind for the file, with a portal and Ana, emptied and given Ana afresh before each test. */
const setup = worldsPerFile(
  test,
  async (kind: (typeof JOURNEY_STORES)[number]): Promise<SharedWorld<{ server: RunningUmbral; rp: RelyingParty }>> => {
    const store = await createTestStore(kind);
    const server = await startUmbral(store).catch(async (error: unknown) => {
      await store.cleanup();
      throw error;
    });
    const createUser = () => server.users.create({ email: 'ana@example.com', password: 'correct horse battery' });
    const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
    await createUser();
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
    return {
      world: { server, rp },
      async reset() {
        await resetServer(server);
        await createUser();
      },
      async close() {
        await server.stop();
        await store.cleanup();
      },
    };
  },
);

/** Identifier step, then one password POST; returns the POST's own response and the page after it. */
async function tryPassword(_server: RunningUmbral, rp: RelyingParty, email: string, password: string) {
  const browser = new HttpBrowser();
  const request = await rp.authorizationRequest();
  const identifier = await browser.open(request.url, REDIRECT);
  const passwordPage = await browser.submit(identifier, '/identifier', { email }, REDIRECT);
  const before = browser.history.length;
  const after = await browser.submit(passwordPage, '/password', { password }, REDIRECT);
  const post = browser.history[before]!;
  return { passwordPage, post, after, browser };
}

function visibleText(page: Page): string {
  return page.body
    .replace(/\/interaction\/[\w-]+/g, '/interaction/UID')
    .replace(/value="[^"]*"/g, 'value=""')
    .replace(/<p class="identity">[\s\S]*?<\/p>/, '');
}

for (const kind of JOURNEY_STORES) {
  test.serial(`[${kind}] a wrong password and an unknown email look the same`, async (t) => {
    const { server, rp } = await setup(kind);
    const wrong = await tryPassword(server, rp, 'ana@example.com', 'not the password');
    const unknown = await tryPassword(server, rp, 'nadie@example.com', 'not the password');
    t.is(unknown.passwordPage.status, 200, 'an unknown email still reaches the password step');
    t.is(wrong.post.status, 303);
    t.is(unknown.post.status, wrong.post.status);
    t.is(
      new URL(unknown.post.headers.get('location')!, unknown.post.url).search,
      new URL(wrong.post.headers.get('location')!, wrong.post.url).search,
    );
    t.is(wrong.after.status, unknown.after.status);
    t.regex(wrong.after.body, /El correo electrónico o la contraseña no son correctos/);
    t.is(visibleText(wrong.after), visibleText(unknown.after));
  });

  test.serial(
    `[${kind}] repeated failures are slowed, then answered 429 with Retry-After, even for the right password`,
    async (t) => {
      const { server, rp } = await setup(kind);
      let throttled: Awaited<ReturnType<typeof tryPassword>>['post'] | undefined;
      for (let attempt = 0; attempt < 15 && !throttled; attempt++) {
        const { post } = await tryPassword(server, rp, 'ana@example.com', `wrong-${attempt}`);
        if (post.status === 429) throttled = post;
        else t.is(post.status, 303);
      }
      t.truthy(throttled, 'throttling engaged');
      t.true(Number(throttled!.headers.get('retry-after')) >= 1);
      t.regex(throttled!.body, /Demasiados intentos fallidos/);
      // More failures lengthen the wait well past this test's pace, even on a loaded machine.
      for (let i = 0; i < 5; i++) await server.umbral.throttle.recordFailure('ana@example.com', '127.0.0.1');
      const right = await tryPassword(server, rp, 'ana@example.com', 'correct horse battery');
      t.is(right.post.status, 429, 'no password is checked while throttled');
      // Another account from elsewhere is not affected by Ana's counter.
      await server.users.create({ email: 'beto@example.com', password: 'another good password' });
      const other = await tryPassword(server, rp, 'beto@example.com', 'another good password');
      t.is(other.post.status, 303);
      t.true(other.after.url.startsWith(REDIRECT));
    },
  );

  test.serial(
    `[${kind}] forms need their CSRF token; stale and finished interactions end on friendly pages`,
    async (t) => {
      const { server, rp } = await setup(kind);
      const browser = new HttpBrowser();
      const request = await rp.authorizationRequest();
      const identifier = await browser.open(request.url, REDIRECT);
      const action = /action="(\/interaction\/[^"]+\/identifier)"/.exec(identifier.body)![1]!;
      const forged = await browser.request(`${server.issuer}${action}`, {
        form: { email: 'ana@example.com', _csrf: 'forged' },
      });
      t.is(forged.status, 403);
      t.regex(forged.body, /El formulario venció/);
      const crossSite = await browser.request(`${server.issuer}${action}`, {
        form: { email: 'ana@example.com', _csrf: /name="_csrf" value="([^"]+)"/.exec(identifier.body)![1]! },
        headers: { origin: 'https://evil.example' },
      });
      t.is(crossSite.status, 403, 'a foreign Origin is refused');

      const passwordPage = await browser.submit(identifier, '/identifier', { email: 'ana@example.com' }, REDIRECT);
      const callback = await browser.submit(passwordPage, '/password', { password: 'correct horse battery' }, REDIRECT);
      t.true(callback.url.startsWith(REDIRECT));
      // Back button, then the same form again: the interaction is over.
      const back = await browser.request(passwordPage.url);
      t.is(back.status, 400);
      t.regex(back.body, /Esta página ya no es válida/);
      const doubleSubmit = await browser.submit(
        passwordPage,
        '/password',
        { password: 'correct horse battery' },
        REDIRECT,
      );
      t.is(doubleSubmit.status, 400);
      t.regex(doubleSubmit.body, /ya se completó/);
      // Another browser cannot use this browser's interaction.
      const stranger = await new HttpBrowser().request(identifier.url);
      t.is(stranger.status, 400);
    },
  );

  test.serial(`[${kind}] pages speak es by default, en and pt-BR on request, with safe headers`, async (t) => {
    const { server, rp } = await setup(kind);
    const spanish = await new HttpBrowser().open((await rp.authorizationRequest()).url, REDIRECT);
    t.regex(spanish.body, /<html lang="es">/);
    t.regex(spanish.body, /Siguiente/);
    const english = await new HttpBrowser({ 'accept-language': 'en-US,en;q=0.8' }).open(
      (await rp.authorizationRequest()).url,
      REDIRECT,
    );
    t.regex(english.body, />Next</);
    const portuguese = await new HttpBrowser({ 'accept-language': 'en' }).open(
      (await rp.authorizationRequest({ ui_locales: 'pt-BR' })).url,
      REDIRECT,
    );
    t.regex(portuguese.body, /Próximo/, 'ui_locales wins over Accept-Language');
    t.regex(spanish.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    t.regex(spanish.headers.get('content-security-policy')!, /default-src 'none'/);
    t.is(spanish.headers.get('x-content-type-options'), 'nosniff');
    t.is(spanish.headers.get('referrer-policy'), 'same-origin');
    t.is(spanish.headers.get('cache-control'), 'no-store');
    for (const field of ['autocomplete="username"', 'type="email"']) t.true(spanish.body.includes(field));
    const health = await fetch(`${server.issuer}/healthz`);
    t.is(health.status, 200);
    t.deepEqual(await health.json(), { status: 'ok', database: kind });
  });
}
