import { randomUUID } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import { MICROSOFT_CONSUMERS_TENANT_ID } from '../../src/federation/federation-settings.ts';
import {
  clientMetadata,
  type FakeAccount,
  type FakeClient,
  fakeIssuer,
  fakeLoginPage,
  listen,
  mount,
  signingKeys,
} from './fake-upstream.ts';

export interface FakeMicrosoft {
  /** MICROSOFT_AUTHORITY for Umbral. */
  authority: string;
  allowClient(client: FakeClient): void;
  /** A work or school (or, in the consumers tenant, personal) account: keyed by (tid, oid). */
  addAccount(input: {
    email: string;
    tid: string;
    oid?: string;
    name?: string;
    edov?: boolean;
    amr?: string[];
    claims?: Record<string, unknown>;
  }): FakeAccount & { tid: string; oid: string };
  /** Removes every account, for the next test on a shared world. */
  forgetAccounts(): void;
  close(): Promise<void>;
}

/**
 * Plays login.microsoftonline.com: one issuer per tenant (`{authority}/{tid}/v2.0`, each an
 * oidc-provider sharing one set of keys, as Microsoft's tenants do), and the multi-tenant
 * endpoints common and organizations, whose discovery publishes the `{tenantid}` issuer template:
 * their sign-in page sends the person to their home tenant, and their token endpoint hands the
 * code to the tenant that issued it. The consumers endpoint publishes the personal-accounts
 * tenant's fixed issuer. Like Microsoft, it sends no `iss` authorization response parameter.
 */
export async function startFakeMicrosoft(tenantIds: string[]): Promise<FakeMicrosoft> {
  const accounts: Array<FakeAccount & { tid: string; oid: string }> = [];
  const clients = new Map<string, ClientMetadata>();
  const jwks = await signingKeys();
  const tenants = new Map<string, Provider>();

  const server = await listen((origin) => {
    const app = new Koa();
    app.keys = ['fake-upstream-cookie-key']; // the tenants' cookies are set through the outer app
    const front = new Router();
    const allTenants = [...new Set([...tenantIds, MICROSOFT_CONSUMERS_TENANT_ID])];
    for (const tid of allTenants) {
      const mountPath = `/${tid}/v2.0`;
      const { provider, router } = fakeIssuer({
        issuer: `${origin}${mountPath}`,
        mountPath,
        jwks,
        accounts: () => accounts.filter((a) => a.tid === tid),
        clients,
        idTokenClaims: ['tid', 'oid', 'preferred_username', 'xms_edov'],
        title: `Sign in to your account (${tid})`,
      });
      tenants.set(tid, provider);
      app.use(router.routes());
    }

    const multiTenant = (kind: string) => ({
      issuer: kind === 'consumers' ? `${origin}/${MICROSOFT_CONSUMERS_TENANT_ID}/v2.0` : `${origin}/{tenantid}/v2.0`,
      authorization_endpoint: `${origin}/${kind}/oauth2/v2.0/authorize`,
      token_endpoint: `${origin}/${kind}/oauth2/v2.0/token`,
      jwks_uri: `${origin}/${kind}/discovery/v2.0/keys`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      code_challenge_methods_supported: ['S256'],
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'nonce',
        'name',
        'email',
        'tid',
        'oid',
        'preferred_username',
      ],
    });
    const homeTenant = (kind: string, login: string) => {
      const account = accounts.find((a) => a.login === login);
      if (!account) return undefined;
      if (kind === 'consumers') return account.tid === MICROSOFT_CONSUMERS_TENANT_ID ? account.tid : undefined;
      return account.tid;
    };
    front.use(bodyParser({ enableTypes: ['form'] }));
    for (const kind of ['common', 'organizations', 'consumers']) {
      front.get(`/${kind}/v2.0/.well-known/openid-configuration`, (ctx) => {
        ctx.body = multiTenant(kind);
      });
      front.get(`/${kind}/discovery/v2.0/keys`, async (ctx) => {
        ctx.body = await (await fetch(`${origin}/${MICROSOFT_CONSUMERS_TENANT_ID}/v2.0/jwks`)).json();
      });
      // Home-realm discovery of Microsoft's own: the account's home tenant signs it in.
      const toHome = (ctx: Koa.Context, login: string, query: URLSearchParams) => {
        const tid = homeTenant(kind, login);
        if (!tid) {
          ctx.type = 'html';
          ctx.body = fakeLoginPage('Sign in to your account', ctx.path, login, 'No such account');
          return;
        }
        query.set('login_hint', login);
        ctx.redirect(`${origin}/${tid}/v2.0/auth?${query}`);
      };
      front.get(`/${kind}/oauth2/v2.0/authorize`, (ctx) => {
        const query = new URLSearchParams(ctx.querystring);
        const hint = query.get('login_hint');
        if (hint && homeTenant(kind, hint)) return toHome(ctx, hint, query);
        ctx.type = 'html';
        ctx.body = fakeLoginPage(
          'Sign in to your account',
          `/${kind}/oauth2/v2.0/authorize?${ctx.querystring}`,
          hint ?? '',
        );
      });
      front.post(`/${kind}/oauth2/v2.0/authorize`, (ctx) => {
        const body = (ctx.request as { body?: Record<string, string> }).body ?? {};
        const query = new URLSearchParams(ctx.querystring);
        if (body['action'] === 'deny') {
          const back = new URL(query.get('redirect_uri')!);
          back.searchParams.set('error', 'access_denied');
          back.searchParams.set('state', query.get('state') ?? '');
          return ctx.redirect(back.href);
        }
        toHome(ctx, body['login'] ?? '', query);
      });
      front.post(`/${kind}/oauth2/v2.0/token`, async (ctx) => {
        const body = (ctx.request as { body?: Record<string, string> }).body ?? {};
        let owner: string | undefined;
        for (const [tid, provider] of tenants)
          if (await provider.AuthorizationCode.find(body['code'] ?? '')) owner = tid;
        if (!owner) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_grant', error_description: 'AADSTS70000: unknown code' };
          return;
        }
        const response = await fetch(`${origin}/${owner}/v2.0/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(ctx.get('authorization') ? { authorization: ctx.get('authorization') } : {}),
          },
          body: new URLSearchParams(body).toString(),
        });
        ctx.status = response.status;
        ctx.type = 'json';
        ctx.body = await response.text();
      });
    }
    app.use(front.routes());

    // Microsoft neither advertises nor sends the RFC 9207 `iss` response parameter.
    app.use(async (ctx, next) => {
      await next();
      if (ctx.path.endsWith('/.well-known/openid-configuration') && ctx.body && typeof ctx.body === 'object') {
        delete (ctx.body as Record<string, unknown>)['authorization_response_iss_parameter_supported'];
      }
      const location = ctx.response.get('location');
      if (location && !location.startsWith(origin) && location.includes('iss=')) {
        const url = new URL(location);
        url.searchParams.delete('iss');
        ctx.set('location', url.href);
      }
    });
    for (const [tid, provider] of tenants) app.use(mount(`/${tid}/v2.0`, provider));
    return app;
  });

  return {
    authority: server.origin,
    allowClient(client) {
      clients.set(client.clientId, clientMetadata(client));
    },
    addAccount(input) {
      const oid = input.oid ?? randomUUID();
      const account = {
        login: input.email,
        tid: input.tid,
        oid,
        claims: {
          sub: `pairwise-${randomUUID()}`,
          tid: input.tid,
          oid,
          email: input.email,
          preferred_username: input.email,
          name: input.name ?? 'Cuenta de Microsoft',
          ...(input.edov ? { xms_edov: true } : {}),
          ...input.claims,
        },
        ...(input.amr ? { amr: input.amr } : {}),
      };
      accounts.push(account);
      return account;
    },
    forgetAccounts() {
      accounts.length = 0;
    },
    close: () => server.close(),
  };
}
