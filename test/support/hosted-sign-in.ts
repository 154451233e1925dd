import type { HttpBrowser, Page } from './http-browser.ts';

/**
 * The hosted login over HTTP, from its identifier step: the email, then the password. Returns the
 * password step and whatever came after it (the portal's callback when `stopAt` is reached, a
 * second-factor step, an error…). Every test that signs in through the pages goes through here.
 */
export async function submitCredentials(
  browser: HttpBrowser,
  identifierPage: Page,
  email: string,
  password: string,
  stopAt?: string,
): Promise<{ passwordPage: Page; next: Page }> {
  const passwordPage = await browser.submit(identifierPage, '/identifier', { email }, stopAt);
  const next = await browser.submit(passwordPage, '/password', { password }, stopAt);
  return { passwordPage, next };
}

/** Opens `url` (e.g. an /account page) and signs in through the hosted login if it asks for one. */
export async function openSignedIn(browser: HttpBrowser, url: string, email: string, password: string): Promise<Page> {
  let page = await browser.open(url);
  if (page.body.includes('/identifier"')) page = await browser.submit(page, '/identifier', { email });
  if (page.body.includes('/password"')) page = await browser.submit(page, '/password', { password });
  return page;
}
