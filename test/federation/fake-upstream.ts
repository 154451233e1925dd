import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type Koa from 'koa';
import mount from 'koa-mount';
import Provider, { type ClientMetadata, interactionPolicy } from 'oidc-provider';

/** Someone who can sign in at a fake provider: what they type on its page, and the claims it asserts. */
export interface FakeAccount {
  login: string;
  claims: Record<string, unknown>;
  /** RFC 8176 values the provider puts in the ID token's amr. */
  amr?: string[];
}

export interface FakeClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** An in-memory oidc-provider adapter of its own (the default one is shared by every provider in the process). */
function memoryAdapter(clients: Map<string, ClientMetadata>) {
  const store = new Map<string, Record<string, unknown>>();
  const uids = new Map<string, string>();
  return class FakeAdapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>) {
      store.set(this.key(id), payload);
      if (typeof payload['uid'] === 'string') uids.set(`${this.model}:${payload['uid']}`, id);
    }
    async find(id: string) {
      if (this.model === 'Client') return clients.get(id);
      return store.get(this.key(id));
    }
    async findByUid(uid: string) {
      const id = uids.get(`${this.model}:${uid}`);
      return id ? this.find(id) : undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const payload = store.get(this.key(id));
      if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, payload] of store) if (payload['grantId'] === grantId) store.delete(key);
    }
  };
}

export async function signingKeys(): Promise<JWK[]> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return [
    { ...(await exportJWK(privateKey)), kid: `k-${Math.random().toString(36).slice(2)}`, alg: 'RS256', use: 'sig' },
  ];
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The provider's own sign-in page: the account (prefilled from login_hint), "Continue" or "Cancel". */
export function fakeLoginPage(title: string, action: string, login: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><title>${escapeHtml(title)}</title></head><body>
<h1>${escapeHtml(title)}</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<label for="login">Account</label><input id="login" name="login" value="${escapeHtml(login)}">
<button type="submit" name="action" value="login">Continue</button>
<button type="submit" name="action" value="deny">Cancel</button>
</form></body></html>`;
}

/**
 * One oidc-provider playing an upstream issuer, mounted at `mountPath` of a front app: code flow
 * with PKCE, client_secret_post, the accounts' claims in the ID token, and a sign-in page whose
 * "Cancel" answers access_denied.
 */
export function fakeIssuer(options: {
  issuer: string;
  mountPath: string;
  jwks: JWK[];
  accounts: () => FakeAccount[];
  clients: Map<string, ClientMetadata>;
  idTokenClaims: string[];
  title: string;
}): { provider: Provider; router: Router } {
  const findBySub = (sub: string) => options.accounts().find((a) => a.claims['sub'] === sub);
  const provider = new Provider(options.issuer, {
    adapter: memoryAdapter(options.clients),
    jwks: { keys: options.jwks as never },
    cookies: { keys: ['fake-upstream-cookie-key'] },
    findAccount: (_ctx, sub) => {
      const account = findBySub(sub);
      return account ? { accountId: sub, claims: () => ({ ...account.claims, sub }) as never } : undefined;
    },
    // oidc-provider releases only scope-bound claims into the ID token: the provider's own ones ride on email and profile.
    claims: {
      openid: ['sub', 'acr', 'amr'],
      email: ['email', 'email_verified', ...options.idTokenClaims],
      profile: ['name', ...options.idTokenClaims],
    },
    scopes: ['openid', 'email', 'profile'],
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    responseTypes: ['code'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    },
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx, interaction) => `${options.mountPath}/interaction/${interaction.uid}`,
      policy: withSelectAccount(),
    },
  });
  provider.on('server_error', (_ctx, error) => console.error('fake upstream server error', error));

  const router = new Router({ prefix: `${options.mountPath}/interaction/:uid` });
  router.use(bodyParser({ enableTypes: ['form'] }));
  router.get('/', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = 'html';
    ctx.body = fakeLoginPage(
      options.title,
      `${options.mountPath}/interaction/${details.uid}`,
      String(details.params['login_hint'] ?? ''),
    );
  });
  router.post('/', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const body = (ctx.request as { body?: Record<string, string> }).body ?? {};
    if (body['action'] === 'deny') {
      const to = await provider.interactionResult(ctx.req, ctx.res, {
        error: 'access_denied',
        error_description: 'The user cancelled',
      });
      return ctx.redirect(to);
    }
    const account = options.accounts().find((a) => a.login === body['login']);
    if (!account) {
      ctx.type = 'html';
      ctx.body = fakeLoginPage(options.title, ctx.path, body['login'] ?? '', 'No such account');
      return;
    }
    const grant = new provider.Grant({
      accountId: String(account.claims['sub']),
      clientId: String(details.params['client_id']),
    });
    grant.addOIDCScope(String(details.params['scope'] ?? 'openid'));
    const grantId = await grant.save();
    const to = await provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId: String(account.claims['sub']), ...(account.amr ? { amr: account.amr } : {}) },
      consent: { grantId },
      select_account: {},
    });
    ctx.redirect(to);
  });
  return { provider, router };
}

/** Google and Microsoft accept prompt=select_account (the account chooser); the page here is one already. */
function withSelectAccount() {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }));
  return policy;
}

export function clientMetadata(client: FakeClient): ClientMetadata {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: [client.redirectUri],
    token_endpoint_auth_method: 'client_secret_post',
  };
}

export interface FakeServer {
  origin: string;
  app: Koa;
  close(): Promise<void>;
}

/** A Koa app on a random loopback port; the handler is attached after the port is known. */
export async function listen(build: (origin: string) => Koa | Promise<Koa>): Promise<FakeServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app = await build(origin);
  server.on('request', app.callback());
  return {
    origin,
    app,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export { mount };
