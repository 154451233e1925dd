/**
 * The smallest password login oidc-provider allows, as the bare provider serves it
 * (scripts/bench/bare-provider.ts): authorization request → one page with email and password →
 * one POST that verifies the password with argon2id and finishes login and consent together →
 * back to /auth → redirect with the code → code exchange. No identifier step, CSRF token,
 * throttle, session record or audit: what the library itself costs around the hash, so the
 * bench can tell Umbral's login cost from the library's.
 */
import { HttpBrowser } from '../../test/support/http-browser.ts';
import { authorizationRequest, codeFrom, exchangeCode, expectForm, type LoginFlow } from './login.ts';

export const onePageLogin: LoginFlow = async (target, fetcher = fetch) => {
  const browser = new HttpBrowser({}, fetcher);
  const request = authorizationRequest(target);
  const t0 = performance.now();
  const page = expectForm(await browser.open(request.url, target.redirectUri), '/password', 'login page');
  const t1 = performance.now();
  const callback = await browser.submit(
    page,
    '/password',
    { email: target.email, password: target.password },
    target.redirectUri,
  );
  const t2 = performance.now();
  const code = codeFrom(callback, target, request.state);
  const tokens = await exchangeCode(target, code, request.verifier, fetcher);
  const t3 = performance.now();
  return {
    timings: { totalMs: t3 - t0, authorizeMs: t1 - t0, identifierMs: 0, passwordMs: t2 - t1, tokenMs: t3 - t2 },
    tokens,
  };
};
