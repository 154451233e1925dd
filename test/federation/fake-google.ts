import Koa from 'koa';
import type { ClientMetadata } from 'oidc-provider';
import {
  clientMetadata,
  type FakeAccount,
  type FakeClient,
  fakeIssuer,
  listen,
  mount,
  signingKeys,
} from './fake-upstream.ts';

export interface FakeGoogle {
  issuer: string;
  accounts: FakeAccount[];
  allowClient(client: FakeClient): void;
  /** A Google account: sub is Google's stable id; hd only for Workspace accounts. */
  addAccount(input: {
    email: string;
    sub?: string;
    emailVerified?: boolean;
    hd?: string;
    name?: string;
    amr?: string[];
  }): FakeAccount;
  /** Removes every account, for the next test on a shared world. */
  forgetAccounts(): void;
  close(): Promise<void>;
}

/** Plays accounts.google.com: one issuer, ID tokens with sub, email, email_verified, hd and name. */
export async function startFakeGoogle(): Promise<FakeGoogle> {
  const accounts: FakeAccount[] = [];
  const clients = new Map<string, ClientMetadata>();
  const jwks = await signingKeys();
  const server = await listen((origin) => {
    const { provider, router } = fakeIssuer({
      issuer: origin,
      mountPath: '',
      jwks,
      accounts: () => accounts,
      clients,
      idTokenClaims: ['hd'],
      title: 'Sign in with Google',
    });
    const app = new Koa();
    app.keys = provider.keys; // the provider's cookies are set through the outer app
    app.use(router.routes());
    app.use(mount(provider));
    return app;
  });
  // Google's subjects are 21-digit numbers (beyond a JavaScript number's precision: kept as strings).
  let next = 100000000000000000000n;
  return {
    issuer: server.origin,
    accounts,
    allowClient(client) {
      clients.set(client.clientId, clientMetadata(client));
    },
    addAccount(input) {
      const account: FakeAccount = {
        login: input.email,
        claims: {
          sub: input.sub ?? String(next++),
          email: input.email,
          email_verified: input.emailVerified ?? true,
          name: input.name ?? 'Cuenta de Google',
          ...(input.hd ? { hd: input.hd } : {}),
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
