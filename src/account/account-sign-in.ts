import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { seeOther } from '../http/form.ts';
import type { Logger } from '../logging/logger.ts';
import { ACCOUNT_CALLBACK_PATH, ACCOUNT_CLIENT_ID } from './account-client.ts';

interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
}

export type CallbackOutcome = { kind: 'signed_in'; returnTo: string } | { kind: 'cancelled' } | { kind: 'invalid' };

/**
 * Only our own account pages, or a page under one of `otherPaths` (the path itself, or below it,
 * or with a query): never an open redirect.
 */
export function safeReturnTo(value: unknown, otherPaths: readonly string[] = []): string {
  if (typeof value !== 'string' || value.includes('//') || value.includes('\\')) return '/account';
  const under = (path: string) =>
    value === path || value.startsWith(`${path}/`) || value.startsWith(`${path}?`) || value.startsWith(`${path}#`);
  return under('/account') || otherPaths.some(under) ? value : '/account';
}

const b64 = (bytes: Buffer) => bytes.toString('base64url');

/**
 * The account page's trip through the authorization endpoint: an authorization code request
 * with state and PKCE S256, whose code is redeemed here, in process, and only counts when it was
 * issued to this browser's own session. `reauth` forces a fresh login (prompt=login, max_age=0)
 * before sensitive changes.
 */
export class AccountSignIn {
  private readonly cookieName: string;
  private readonly returnPaths: string[];

  constructor(
    private readonly deps: {
      provider: Provider;
      issuer: string;
      secure: boolean;
      logger: Logger;
      /** Pages outside /account a sign-in may return to, with what is under them (an invitation's landing, /org). */
      returnPaths?: readonly string[];
    },
  ) {
    this.cookieName = deps.secure ? '__Secure-umbral.account-signin' : 'umbral.account-signin';
    this.returnPaths = [...(deps.returnPaths ?? [])];
  }

  /** Lets sign-ins return to `path` and the pages under it too (the operator console's /admin). */
  allowReturnsUnder(path: string): void {
    this.returnPaths.push(path);
  }

  start(
    ctx: Context,
    options: {
      returnTo: string;
      reauth: boolean;
      loginHint?: string | undefined;
      locale: string;
      /** `acr_values` to ask for (step-up to a second factor). */
      acrValues?: string | undefined;
    },
  ): void {
    const pending: PendingSignIn = {
      state: b64(randomBytes(16)),
      verifier: b64(randomBytes(32)),
      returnTo: safeReturnTo(options.returnTo, this.returnPaths),
    };
    ctx.cookies.set(this.cookieFor(pending.state), b64(Buffer.from(JSON.stringify(pending))), {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: this.deps.secure,
      path: ACCOUNT_CALLBACK_PATH,
      maxAge: 60 * 60 * 1000,
      overwrite: true,
    });
    const params = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${this.deps.issuer}${ACCOUNT_CALLBACK_PATH}`,
      state: pending.state,
      code_challenge: b64(createHash('sha256').update(pending.verifier).digest()),
      code_challenge_method: 'S256',
      ui_locales: options.locale,
    });
    if (options.reauth) {
      params.set('prompt', 'login');
      params.set('max_age', '0');
    }
    if (options.loginHint) params.set('login_hint', options.loginHint);
    if (options.acrValues) params.set('acr_values', options.acrValues);
    seeOther(ctx, `/auth?${params}`);
  }

  async callback(ctx: Context): Promise<CallbackOutcome> {
    const state = typeof ctx.query['state'] === 'string' ? ctx.query['state'] : '';
    const pending = this.takePending(ctx, state);
    if (!pending || !equal(state, pending.state)) return { kind: 'invalid' };
    if (typeof ctx.query['error'] === 'string') return { kind: 'cancelled' };
    const codeValue = typeof ctx.query['code'] === 'string' ? ctx.query['code'] : '';
    const code = codeValue ? await this.deps.provider.AuthorizationCode.find(codeValue) : undefined;
    const challenge = b64(createHash('sha256').update(pending.verifier).digest());
    if (
      !code ||
      (code as { consumed?: unknown }).consumed ||
      code.clientId !== ACCOUNT_CLIENT_ID ||
      code.redirectUri !== `${this.deps.issuer}${ACCOUNT_CALLBACK_PATH}` ||
      code.codeChallengeMethod !== 'S256' ||
      !equal(code.codeChallenge ?? '', challenge)
    ) {
      this.deps.logger.warn(
        { event: 'account.signin_rejected' },
        'account page sign-in: code did not match this browser',
      );
      return { kind: 'invalid' };
    }
    await code.consume();
    // The code must belong to the session this browser holds; else it was carried here from elsewhere.
    const session = await this.deps.provider.Session.get(ctx);
    if (!session.accountId || session.accountId !== code.accountId || session.uid !== code.sessionUid)
      return { kind: 'invalid' };
    return { kind: 'signed_in', returnTo: pending.returnTo };
  }

  /**
   * One cookie per sign-in, named after its state: two tabs signing in at once (an invitation
   * opened twice) each come back to their own, instead of the later one's overwriting the first.
   */
  private cookieFor(state: string): string {
    return `${this.cookieName}.${b64(createHash('sha256').update(state).digest()).slice(0, 16)}`;
  }

  private takePending(ctx: Context, state: string): PendingSignIn | undefined {
    if (!state) return undefined;
    const name = this.cookieFor(state);
    const raw = ctx.cookies.get(name, { signed: true });
    ctx.cookies.set(name, '', {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: this.deps.secure,
      path: ACCOUNT_CALLBACK_PATH,
      maxAge: 0,
      overwrite: true,
    });
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<PendingSignIn>;
      if (typeof parsed.state !== 'string' || typeof parsed.verifier !== 'string') return undefined;
      return {
        state: parsed.state,
        verifier: parsed.verifier,
        returnTo: safeReturnTo(parsed.returnTo, this.returnPaths),
      };
    } catch {
      return undefined;
    }
  }
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
