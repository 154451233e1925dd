/**
 * Complete password logins over HTTP, as a browser without JavaScript does them: authorization
 * request (PKCE S256) → identifier page → email → password page → password → back to /auth →
 * redirect with the code → code exchange at the token endpoint. A fresh cookie jar each time.
 * The bare oidc-provider's one-page login (scripts/bench/one-page-login.ts) shares the
 * authorization request and the code exchange.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HttpBrowser, type Page } from '../../test/support/http-browser.ts';
import { type LatencySummary, round, Samples } from './stats.ts';

export interface LoginTarget {
  /** The issuer, e.g. http://localhost:3000 (cookies and redirects name it). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  email: string;
  password: string;
}

export interface LoginTimings {
  totalMs: number;
  /** GET /auth → /interaction/:uid → identifier page */
  authorizeMs: number;
  /** POST email → identifier page → password page */
  identifierMs: number;
  /** POST password (argon2id) → /auth/:uid → redirect with the code */
  passwordMs: number;
  /** POST /token (authorization_code) */
  tokenMs: number;
}

export interface LoginTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

const b64url = (b: Buffer) => b.toString('base64url');

export type LoginFlow = (
  target: LoginTarget,
  fetcher?: typeof fetch,
) => Promise<{ timings: LoginTimings; tokens: LoginTokens }>;

/** An authorization request for the code flow with PKCE S256, with its state and verifier. */
export function authorizationRequest(target: LoginTarget): { url: string; state: string; verifier: string } {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(12));
  const url = new URL('/auth', target.issuer);
  url.search = new URLSearchParams({
    client_id: target.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: target.redirectUri,
    state,
    nonce: b64url(randomBytes(12)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, state, verifier };
}

/** The code from the redirect back to the client, checked against the request's state. */
export function codeFrom(callback: Page, target: LoginTarget, state: string): string {
  if (!callback.url.startsWith(target.redirectUri)) {
    throw new Error(`login did not return to the client (status ${callback.status} at ${callback.url})`);
  }
  const params = new URL(callback.url).searchParams;
  const code = params.get('code');
  if (!code || params.get('state') !== state)
    throw new Error(`callback without code or with wrong state: ${callback.url}`);
  return code;
}

/** The code exchange at the token endpoint (client_secret_basic). */
export async function exchangeCode(
  target: LoginTarget,
  code: string,
  verifier: string,
  fetcher: typeof fetch,
): Promise<LoginTokens> {
  const response = await fetcher(new URL('/token', target.issuer), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(target.clientId)}:${encodeURIComponent(target.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: target.redirectUri,
      code_verifier: verifier,
    }),
  });
  const tokens = (await response.json()) as LoginTokens & { error?: string; error_description?: string };
  if (!response.ok || !tokens.access_token)
    throw new Error(`code exchange failed: ${response.status} ${JSON.stringify(tokens)}`);
  return tokens;
}

/** `page` when it is the page whose form posts to `…action`, else an error naming what came instead. */
export function expectForm(page: Page, action: string, what: string): Page {
  if (page.status !== 200 || !page.body.includes(`${action}"`)) {
    throw new Error(`expected the ${what}, got ${page.status} at ${page.url}`);
  }
  return page;
}

/** One login; `fetcher` stands in for fetch for every request of it (scripts/bench/login-steps.ts counts them). */
export const passwordLogin: LoginFlow = async (target, fetcher = fetch) => {
  const browser = new HttpBrowser({}, fetcher);
  const request = authorizationRequest(target);
  const t0 = performance.now();
  const identifierPage = expectForm(
    await browser.open(request.url, target.redirectUri),
    '/identifier',
    'identifier page',
  );
  const t1 = performance.now();
  const passwordPage = expectForm(
    await browser.submit(identifierPage, '/identifier', { email: target.email }, target.redirectUri),
    '/password',
    'password page',
  );
  const t2 = performance.now();
  const callback = await browser.submit(passwordPage, '/password', { password: target.password }, target.redirectUri);
  const t3 = performance.now();
  const code = codeFrom(callback, target, request.state);
  const tokens = await exchangeCode(target, code, request.verifier, fetcher);
  const t4 = performance.now();
  return {
    timings: { totalMs: t4 - t0, authorizeMs: t1 - t0, identifierMs: t2 - t1, passwordMs: t3 - t2, tokenMs: t4 - t3 },
    tokens,
  };
};

export interface LoginLoadResult {
  concurrency: number;
  durationSeconds: number;
  /** Complete logins per second. */
  rps: number;
  ok: number;
  failed: number;
  firstErrors: string[];
  latencyMs: LatencySummary;
  /** p50 of each step, ms. */
  stepsP50Ms: Omit<LoginTimings, 'totalMs'>;
}

/** `concurrency` logins in flight at all times for `seconds` (logins started before the end are finished). */
export async function loginLoad(
  target: LoginTarget,
  concurrency: number,
  seconds: number,
  login: LoginFlow = passwordLogin,
): Promise<LoginLoadResult> {
  const total = new Samples();
  const steps = {
    authorizeMs: new Samples(),
    identifierMs: new Samples(),
    passwordMs: new Samples(),
    tokenMs: new Samples(),
  };
  const errors: string[] = [];
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      try {
        const { timings } = await withTimeout(login(target), 30_000);
        ok++;
        total.add(timings.totalMs);
        for (const key of Object.keys(steps) as (keyof typeof steps)[]) steps[key].add(timings[key]);
      } catch (error) {
        failed++;
        if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
        if (failed > 20 && failed > ok) break; // something is broken: stop hammering
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const durationSeconds = (performance.now() - started) / 1000;
  return {
    concurrency,
    durationSeconds: round(durationSeconds),
    rps: round(ok / durationSeconds, 1),
    ok,
    failed,
    firstErrors: errors,
    latencyMs: total.summary(),
    stepsP50Ms: {
      authorizeMs: steps.authorizeMs.summary().p50,
      identifierMs: steps.identifierMs.summary().p50,
      passwordMs: steps.passwordMs.summary().p50,
      tokenMs: steps.tokenMs.summary().p50,
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`login took over ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
