import test from 'ava';
import type { Page } from 'playwright-core';
import { BROWSER_STORES } from '../support/stores.ts';
import { browserSuite, expectHeading, landOn, newContext, signIn } from './browser-support.ts';

// Real Chromium, because the point is SameSite: the portal (127.0.0.1) and Umbral (localhost)
// are different sites, so the form POST carries no Lax session cookie; the 303 GET it becomes does.
const suite = browserSuite(test);

/** A portal page holding a form that POSTs `fields` to `action` across sites, as an RP would. */
async function postFromPortal(page: Page, portalOrigin: string, action: string, fields: Record<string, string>) {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value.replace(/"/g, '&quot;')}">`)
    .join('');
  await page.route(`${portalOrigin}/send`, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><title>portal</title><form method="post" action="${action}">${inputs}<button>Enviar</button></form>`,
    }),
  );
  await page.goto(`${portalOrigin}/send`);
  await page.getByRole('button', { name: 'Enviar' }).click();
}

for (const kind of BROWSER_STORES) {
  test.serial(`[${kind}] a cross-site form POST to /auth and /session/end finds the session`, async (t) => {
    const fixture = suite.fixture(kind);
    const user = await fixture.createUser(`post-${kind}@example.com`);
    const { page } = await newContext(t, suite.browser());
    const first = await signIn(fixture, page, user.email);
    const tokens = await fixture.rp.exchange(first.callback.href, first.request);

    // prompt=none: only a session cookie that arrived lets this end with a code instead of login_required.
    const silent = await fixture.rp.authorizationRequest({ prompt: 'none' });
    await postFromPortal(
      page,
      fixture.portal.origin,
      `${fixture.server.issuer}/auth`,
      Object.fromEntries(new URL(silent.url).searchParams),
    );
    const callback = await landOn(page, fixture.portal.redirectUri);
    t.is(callback.searchParams.get('error'), null);
    t.truthy((await fixture.rp.exchange(callback.href, silent)).id_token);

    await postFromPortal(page, fixture.portal.origin, `${fixture.server.issuer}/session/end`, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: fixture.portal.postLogoutUri,
    });
    await expectHeading(page, '¿Cerrar sesión?');
    await page.getByRole('button', { name: 'Sí, cerrar sesión' }).click();
    await landOn(page, fixture.portal.postLogoutUri);

    const after = await fixture.rp.authorizationRequest({ prompt: 'none' });
    await page.goto(after.url);
    t.is((await landOn(page, fixture.portal.redirectUri)).searchParams.get('error'), 'login_required');
  });
}
