import * as oidc from 'openid-client';
import type { Logger } from '../logging/logger.ts';
import {
  type FederationSettings,
  type GoogleSettings,
  isLoopbackHost,
  type MicrosoftSettings,
  type ProviderName,
} from './federation-settings.ts';
import { MicrosoftIssuer, unverifiedTenant } from './microsoft-issuer.ts';
import { googleIdentity, microsoftIdentity, type UpstreamIdentity, UpstreamRefusal } from './upstream-identity.ts';

/** What one sign-in remembers between the redirect to the provider and its callback. */
export interface UpstreamChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface AuthorizationOptions extends UpstreamChecks {
  redirectUri: string;
  /** The email typed at the identifier step (domain routing): the provider preselects that account. */
  loginHint?: string | undefined;
  locale: string;
}

/** Discovery documents are kept this long; a failed discovery is retried at the next sign-in. */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
/** Seconds before an upstream request is given up (the person sees "not responding"). */
const UPSTREAM_TIMEOUT_SECONDS = 10;

type Tokens = Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;

/**
 * One upstream OpenID Provider, spoken to with openid-client: authorization code with PKCE
 * (S256), nonce and state, client_secret_post, and the ID token's `iss` checked exactly.
 * Plain http is allowed only when the provider is on a loopback address (tests).
 */
export abstract class UpstreamClient {
  private discovered: { at: number; config: Promise<oidc.Configuration> } | undefined;

  protected constructor(
    readonly name: ProviderName,
    protected readonly clientId: string,
    private readonly clientSecret: string,
    protected readonly logger: Logger,
  ) {}

  protected abstract discoveryUrl(): URL;
  protected abstract acceptsDiscovered(issuer: string): boolean;
  protected abstract extraAuthorizationParameters(options: AuthorizationOptions): Record<string, string>;
  protected abstract exchangeCode(
    config: oidc.Configuration,
    callback: URL,
    checks: oidc.AuthorizationCodeGrantChecks,
  ): Promise<Tokens>;
  protected abstract identityFrom(claims: Record<string, unknown>): UpstreamIdentity;

  private insecure(url: string | URL): boolean {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname);
  }

  /** A Configuration over `metadata`, with this client's credentials and, optionally, its own fetch. */
  protected configuration(metadata: oidc.ServerMetadata, fetch?: oidc.CustomFetch): oidc.Configuration {
    // serverMetadata() carries helper functions, which structuredClone (inside Configuration) refuses.
    const plain = JSON.parse(JSON.stringify(metadata)) as oidc.ServerMetadata;
    const config = new oidc.Configuration(
      plain,
      this.clientId,
      { client_secret: this.clientSecret },
      oidc.ClientSecretPost(this.clientSecret),
    );
    config.timeout = UPSTREAM_TIMEOUT_SECONDS;
    if (fetch) config[oidc.customFetch] = fetch;
    if (this.insecure(plain.issuer.replace('{tenantid}', 'x'))) oidc.allowInsecureRequests(config);
    return config;
  }

  private async discover(): Promise<oidc.Configuration> {
    const url = this.discoveryUrl();
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(
        url,
        this.clientId,
        { client_secret: this.clientSecret },
        oidc.ClientSecretPost(this.clientSecret),
        {
          timeout: UPSTREAM_TIMEOUT_SECONDS,
          ...(this.insecure(url) ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      );
    } catch (error) {
      throw new UpstreamRefusal('unavailable', `${this.name} discovery failed: ${describe(error)}`);
    }
    const issuer = config.serverMetadata().issuer;
    if (!this.acceptsDiscovered(issuer))
      throw new UpstreamRefusal('unavailable', `${this.name} discovery published an unexpected issuer ${issuer}`);
    return this.configuration(config.serverMetadata());
  }

  protected metadata(): Promise<oidc.Configuration> {
    const now = Date.now();
    if (!this.discovered || now - this.discovered.at > DISCOVERY_TTL_MS) {
      const config = this.discover();
      this.discovered = { at: now, config };
      config.catch(() => {
        if (this.discovered?.config === config) this.discovered = undefined;
      });
    }
    return this.discovered.config;
  }

  async authorizationUrl(options: AuthorizationOptions): Promise<URL> {
    const config = await this.metadata();
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: options.redirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      state: options.state,
      nonce: options.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(options.codeVerifier),
      code_challenge_method: 'S256',
      ui_locales: options.locale,
      ...(options.loginHint ? { login_hint: options.loginHint } : { prompt: 'select_account' }),
      ...this.extraAuthorizationParameters(options),
    });
  }

  /** Redeems the code of the callback and returns the identity; an UpstreamRefusal says why not. */
  async finish(callback: URL, checks: UpstreamChecks): Promise<UpstreamIdentity> {
    const error = callback.searchParams.get('error');
    if (error) {
      // Denied consent or a cancelled sign-in is the person's choice; anything else is the provider's problem.
      const reason = error === 'access_denied' || error === 'consent_required' ? 'denied' : 'failed';
      throw new UpstreamRefusal(reason, `${this.name} answered ${error.slice(0, 64)}`);
    }
    const config = await this.metadata();
    let tokens: Tokens;
    try {
      tokens = await this.exchangeCode(config, callback, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof UpstreamRefusal) throw error;
      throw new UpstreamRefusal(
        unreachable(error) ? 'unavailable' : 'failed',
        `${this.name} code exchange failed: ${describe(error)}`,
      );
    }
    const claims = tokens.claims();
    if (!claims) throw new UpstreamRefusal('failed', `${this.name} returned no ID token`);
    return this.identityFrom(claims as Record<string, unknown>);
  }
}

export class GoogleClient extends UpstreamClient {
  constructor(
    private readonly settings: GoogleSettings,
    logger: Logger,
  ) {
    super('google', settings.clientId, settings.clientSecret, logger);
  }

  protected discoveryUrl(): URL {
    return new URL(this.settings.issuer);
  }

  protected acceptsDiscovered(issuer: string): boolean {
    return issuer === this.settings.issuer;
  }

  protected extraAuthorizationParameters(options: AuthorizationOptions): Record<string, string> {
    // `hd` only preselects: the ID token's own `hd` is what is checked (upstream-identity.ts).
    const domain = options.loginHint?.split('@')[1];
    const hd = this.settings.allowedDomains.length === 1 ? this.settings.allowedDomains[0] : domain;
    return hd ? { hd } : {};
  }

  protected exchangeCode(
    config: oidc.Configuration,
    callback: URL,
    checks: oidc.AuthorizationCodeGrantChecks,
  ): Promise<Tokens> {
    return oidc.authorizationCodeGrant(config, callback, checks);
  }

  protected identityFrom(claims: Record<string, unknown>): UpstreamIdentity {
    return googleIdentity(claims, this.settings);
  }
}

export class MicrosoftClient extends UpstreamClient {
  private readonly issuers: MicrosoftIssuer;

  constructor(
    private readonly settings: MicrosoftSettings,
    logger: Logger,
  ) {
    super('microsoft', settings.clientId, settings.clientSecret, logger);
    this.issuers = new MicrosoftIssuer(settings);
  }

  protected discoveryUrl(): URL {
    return this.issuers.discoveryUrl();
  }

  protected acceptsDiscovered(issuer: string): boolean {
    return this.issuers.acceptsDiscovered(issuer);
  }

  protected extraAuthorizationParameters(options: AuthorizationOptions): Record<string, string> {
    const domain = options.loginHint?.split('@')[1];
    return domain ? { domain_hint: domain } : {};
  }

  /**
   * For the `{tenantid}` template the issuer is known only once the token response names the
   * tenant. The response is kept, the tenant read from it, and openid-client then validates the
   * same response (state, nonce, aud, azp, exp, iat and `iss`) against the resolved issuer,
   * with no second request: the code is redeemed once.
   */
  protected async exchangeCode(
    config: oidc.Configuration,
    callback: URL,
    checks: oidc.AuthorizationCodeGrantChecks,
  ): Promise<Tokens> {
    const metadata = config.serverMetadata();
    let tokens: Tokens;
    let tid: string | undefined;
    if (metadata.issuer !== this.issuers.template) {
      tokens = await oidc.authorizationCodeGrant(config, callback, checks);
      tid = this.issuers.tenantOfIssuer(metadata.issuer);
    } else {
      const tokenEndpoint = new URL(metadata.token_endpoint!).href;
      let captured: Response | undefined;
      const capturing = this.configuration(metadata, async (url, options) => {
        const response = await fetch(url, options as RequestInit);
        if (new URL(url).href === tokenEndpoint && response.ok) captured = response.clone();
        return response;
      });
      // An `iss` response parameter (RFC 9207), when sent, must name a tenant too; openid-client compares it.
      const issParameter = callback.searchParams.get('iss');
      const withoutIss = new URL(callback);
      withoutIss.searchParams.delete('iss');
      try {
        await oidc.authorizationCodeGrant(capturing, withoutIss, checks);
      } catch (error) {
        // Expected: the ID token's `iss` is not the template. Anything before the token response is final.
        if (!captured) throw error;
      }
      if (!captured) throw new UpstreamRefusal('failed', 'microsoft token response missing');
      tid = unverifiedTenant(((await captured.clone().json()) as Record<string, unknown>)['id_token']);
      const expected = this.issuers.expectedIssuer(tid);
      if (!expected)
        throw new UpstreamRefusal(
          'wrong_tenant',
          `microsoft tenant ${String(tid).slice(0, 64)} is not admitted by the ${this.settings.tenant} endpoint`,
        );
      if (issParameter !== null && issParameter !== expected)
        throw new UpstreamRefusal('wrong_tenant', 'microsoft iss response parameter names another tenant');
      let replay: Response | undefined = captured;
      const replaying = this.configuration({ ...(metadata as oidc.ServerMetadata), issuer: expected }, async (url) => {
        const response = new URL(url).href === tokenEndpoint ? replay : undefined;
        replay = undefined;
        if (!response) throw new Error('no upstream request is made while validating a kept response');
        return response;
      });
      try {
        tokens = await oidc.authorizationCodeGrant(replaying, withoutIss, checks);
      } catch (error) {
        // The token names one tenant in `tid` and was issued by another.
        if (causes(error).some((cause) => (cause as { claim?: unknown }).claim === 'iss'))
          throw new UpstreamRefusal('wrong_tenant', `microsoft token of tenant ${tid} carries another tenant's issuer`);
        throw error;
      }
    }
    const claims = tokens.claims();
    const claimedTid = typeof claims?.['tid'] === 'string' ? claims['tid'] : undefined;
    // A tenant's endpoint must not hand out another tenant's tokens, and tid must agree with iss.
    if (!claimedTid || claimedTid !== tid || this.issuers.expectedIssuer(claimedTid) !== claims?.iss) {
      throw new UpstreamRefusal(
        'wrong_tenant',
        `microsoft token of tenant ${String(claimedTid).slice(0, 64)} does not match its issuer`,
      );
    }
    return tokens;
  }

  protected identityFrom(claims: Record<string, unknown>): UpstreamIdentity {
    return microsoftIdentity(claims, this.settings);
  }
}

/** The configured providers, each discovered on first use. */
export class UpstreamClients {
  private readonly clients = new Map<ProviderName, UpstreamClient>();

  constructor(settings: FederationSettings, logger: Logger) {
    if (settings.google) this.clients.set('google', new GoogleClient(settings.google, logger));
    if (settings.microsoft) this.clients.set('microsoft', new MicrosoftClient(settings.microsoft, logger));
  }

  get(name: ProviderName): UpstreamClient | undefined {
    return this.clients.get(name);
  }

  names(): ProviderName[] {
    return [...this.clients.keys()];
  }
}

/** An error and its causes, outermost first (openid-client wraps oauth4webapi's errors). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (
    let current: unknown = error;
    current && typeof current === 'object' && !chain.includes(current);
    current = (current as { cause?: unknown }).cause
  ) {
    chain.push(current);
  }
  return chain;
}

/** Connection refused, DNS failure, timeout or a 5xx: the provider is not there right now. */
function unreachable(error: unknown): boolean {
  for (const current of causes(error)) {
    const { name, code, status } = current as { name?: string; code?: string; status?: number };
    if (name === 'TimeoutError' || name === 'AbortError' || code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT')
      return true;
    if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|UND_ERR_\w+)$/.test(code))
      return true;
    if (typeof status === 'number' && status >= 500) return true;
    if (current instanceof TypeError && current.message === 'fetch failed') return true;
  }
  return false;
}

/** An error's name, code and message, for the log: never tokens or codes. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 200);
  const code = (error as { code?: string }).code;
  return `${error.name}${code ? ` ${code}` : ''}: ${error.message}`.slice(0, 300);
}
