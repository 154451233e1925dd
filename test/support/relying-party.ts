import * as oidc from 'openid-client';
import { submitCredentials } from './hosted-sign-in.ts';
import type { HttpBrowser, Page } from './http-browser.ts';

/** openid-client as the portal: discovery, PKCE S256, state and nonce, code exchange. */
export class RelyingParty {
  private constructor(
    readonly config: oidc.Configuration,
    readonly redirectUri: string,
  ) {}

  static async discover(
    issuer: string,
    clientId: string,
    clientSecret: string | undefined,
    redirectUri: string,
  ): Promise<RelyingParty> {
    const config = await oidc.discovery(
      new URL(issuer),
      clientId,
      clientSecret,
      clientSecret ? undefined : oidc.None(),
      { execute: [oidc.allowInsecureRequests] },
    );
    return new RelyingParty(config, redirectUri);
  }

  async authorizationRequest(params: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(this.config, {
      redirect_uri: this.redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    });
    return { url: url.href, verifier, state, nonce };
  }

  async exchange(callbackUrl: string, request: { verifier: string; state: string; nonce: string }) {
    return oidc.authorizationCodeGrant(this.config, new URL(callbackUrl), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
  }

  refresh(refreshToken: string) {
    return oidc.refreshTokenGrant(this.config, refreshToken);
  }

  /** The whole identifier-first login over HTTP; returns the callback URL the browser was sent to. */
  async signIn(browser: HttpBrowser, email: string, password: string, params: Record<string, string> = {}) {
    const request = await this.authorizationRequest(params);
    const identifierPage = await browser.open(request.url, this.redirectUri);
    const { passwordPage, next } = await submitCredentials(browser, identifierPage, email, password, this.redirectUri);
    return { request, identifierPage, passwordPage, callback: next };
  }
}

export function isCallback(page: Page, redirectUri: string): boolean {
  return page.url.startsWith(redirectUri);
}
