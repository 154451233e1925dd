/**
 * The ceiling: oidc-provider alone, as shipped (in-memory adapter, default configuration),
 * with only what the token loads need: clientCredentials on, one static confidential client
 * with client_secret_basic, and an ES256 signing key as Umbral uses. Run by the bench as a
 * child process pinned to one core; prints one JSON line when it listens.
 *
 *   PORT=4000 node --import tsx scripts/bench/bare-provider.ts
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env['PORT'] ?? 0);
const issuer = `http://localhost:${port}`;
const clientId = 'bench-client';
const clientSecret = randomBytes(32).toString('base64url');
const redirectUri = 'http://localhost:9/cb';

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
  handler(req, res);
});
server.keepAliveTimeout = 65_000;
server.listen(port, () => {
  process.stdout.write(`${JSON.stringify({ ready: true, issuer, clientId, clientSecret, redirectUri })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
