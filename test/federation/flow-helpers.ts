import type { HttpBrowser, Page } from '../support/http-browser.ts';
import type { FederationWorld } from './federation-world.ts';

/**
 * From the portal through "Continuar con <provider>" and the provider's own page to whatever
 * Umbral shows next (or the portal's callback), over plain HTTP.
 */
export async function signInWith(
  world: FederationWorld,
  browser: HttpBrowser,
  provider: 'google' | 'microsoft',
  login: string,
  params: Record<string, string> = {},
) {
  const request = await world.rp.authorizationRequest({ scope: 'openid email profile', ...params });
  const identifier = await browser.open(request.url, world.redirectUri);
  const upstreamPage = await browser.submit(identifier, `/federation/${provider}/start`, {}, world.redirectUri);
  const page = await continueAtProvider(world, browser, upstreamPage, login);
  return { request, identifier, upstreamPage, page };
}

/** The provider's pages: the account, then "Continue" (Microsoft's multi-tenant endpoints show two). */
export async function continueAtProvider(
  world: FederationWorld,
  browser: HttpBrowser,
  page: Page,
  login: string,
  action: 'login' | 'deny' = 'login',
): Promise<Page> {
  let current = page;
  for (
    let hops = 0;
    hops < 3 && /name="action"/.test(current.body) && !current.url.startsWith(world.server.issuer);
    hops++
  ) {
    current = await browser.submit(current, '', { login, action }, world.redirectUri);
  }
  return current;
}

export function isAt(page: Page, redirectUri: string): boolean {
  return page.url.startsWith(redirectUri);
}
