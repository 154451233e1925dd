/**
 * The ceiling: oidc-provider alone, as shipped (in-memory adapter, default configuration),
 * with only what the token loads need: clientCredentials on, one static confidential client
 * with client_secret_basic, and an ES256 signing key as Umbral uses. For the login floor it
 * serves the smallest password login the library allows (scripts/bench/one-page-login.ts):
 * one page, one POST verified with Umbral's argon2id, login and consent finished together.
 * Run by the bench as a child process pinned to one core; prints one JSON line when it listens.
 *
 *   PORT=4000 node --import tsx scripts/bench/bare-provider.ts
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { hashPassword, verifyPassword } from '../../src/users/password-hasher.ts';

const port = Number(process.env['PORT'] ?? 0);
const issuer = `http://localhost:${port}`;
const clientId = 'bench-client';
const clientSecret = randomBytes(32).toString('base64url');
const redirectUri = 'http://localhost:9/cb';
const loginEmail = 'bench.user@example.com';
const loginPassword = randomBytes(16).toString('base64url');
const accounts = new Map([[loginEmail, { accountId: 'bench-account', hash: await hashPassword(loginPassword) }]]);

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench-es256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      redirect_uris: [redirectUri],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [jwk as never] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  async findAccount(_ctx, sub) {
    return { accountId: sub, claims: async () => ({ sub }) };
  },
});

/** A refresh token made directly (no login): grant, then token, both in the memory adapter. */
async function newRefreshToken(): Promise<string> {
  const client = await provider.Client.find(clientId);
  const accountId = 'bench-account';
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope('openid offline_access');
  const grantId = await grant.save();
  const token = new provider.RefreshToken({
    accountId,
    client: client!,
    grantId,
    scope: 'openid offline_access',
    gty: 'authorization_code',
    authTime: Math.floor(Date.now() / 1000),
  } as never);
  return token.save();
}

const formBody = async (req: http.IncomingMessage): Promise<URLSearchParams> => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
};

/** The login page and its POST: email and password on one form, then login and consent at once. */
async function interaction(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      `<!doctype html><form method="post" action="/interaction/${details.uid}/password">` +
        '<input name="email" autocomplete="username"><input name="password" type="password"><button>Sign in</button></form>',
    );
    return;
  }
  const form = await formBody(req);
  const account = accounts.get(form.get('email') ?? '');
  if (!(await verifyPassword(account?.hash, form.get('password') ?? '')) || !account) {
    res.statusCode = 401;
    res.end('wrong email or password');
    return;
  }
  const grant = new provider.Grant({ accountId: account.accountId, clientId: String(details.params['client_id']) });
  grant.addOIDCScope(String(details.params['scope']));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: account.accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

// The memory adapter is an LRU of 1,000 entries: hand out a fresh refresh token right before a refresh load.
const handler = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url === '/__bench/refresh-token' && req.method === 'POST') {
    newRefreshToken().then(
      (token) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ refresh_token: token }));
      },
      (error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      },
    );
    return;
  }
  if (req.url?.startsWith('/interaction/')) {
    interaction(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  handler(req, res);
});
server.keepAliveTimeout = 65_000;
server.listen(port, () => {
  process.stdout.write(
    `${JSON.stringify({ ready: true, issuer, clientId, clientSecret, redirectUri, loginEmail, loginPassword })}\n`,
  );
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
