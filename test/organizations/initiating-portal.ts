import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RelyingParty } from '../support/relying-party.ts';

/** Who signed in at the portal, as its callback saw the ID token. */
export interface PortalSignIn {
  sub: string;
  email: unknown;
  claims: Record<string, unknown>;
}

/**
 * A portal as a real one behaves, served over HTTPS (oidc-provider accepts only https
 * initiate_login_uri values) with a self-signed certificate made for the test:
 * - GET /login?iss=…&login_hint=… (its initiate_login_uri, OpenID Connect Core §4): checks `iss`,
 *   starts its own authorization (openid-client: state, nonce, PKCE) bound to a cookie of its own;
 * - GET /cb: redeems the code, only for the sign-in its cookie started (a callback it did not
 *   start is refused, as every portal library does), and shows who is signed in.
 */
export interface InitiatingPortal {
  origin: string;
  initiateLoginUri: string;
  redirectUri: string;
  signIns: PortalSignIn[];
  /** Trusts the portal's certificate: for HttpBrowser, or any fetch in the test. */
  fetch: typeof fetch;
  /** The certificate, for a browser told to trust it. */
  certificate: string;
  connect(issuer: string, clientId: string, clientSecret: string | undefined): Promise<void>;
  forget(): void;
  close(): Promise<void>;
}

/** `scope`: what the portal asks for (default openid email profile; a company portal adds `organization`). */
export async function startInitiatingPortal(options: { scope?: string } = {}): Promise<InitiatingPortal> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-portal-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  const key = fs.readFileSync(keyFile, 'utf8');
  const certificate = fs.readFileSync(certFile, 'utf8');
  fs.rmSync(dir, { recursive: true, force: true });

  let rp: RelyingParty | undefined;
  let issuer = '';
  const pending = new Map<string, Awaited<ReturnType<RelyingParty['authorizationRequest']>>>();
  const signIns: PortalSignIn[] = [];

  const server = https.createServer({ key, cert: certificate }, (req, res) => {
    handle(req.url ?? '/', req.headers.cookie ?? '')
      .then(({ status, headers, body }) => res.writeHead(status, headers).end(body))
      .catch((error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const redirectUri = `${origin}/cb`;

  async function handle(
    url: string,
    cookie: string,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const target = new URL(url, origin);
    const html = (status: number, text: string) => ({
      status,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><title>Portal</title><h1>${text}</h1>`,
    });
    if (target.pathname === '/login') {
      // Third-party initiated login: only from the issuer the portal knows.
      if (!rp || target.searchParams.get('iss') !== issuer) return html(400, 'Emisor desconocido');
      const hint = target.searchParams.get('login_hint');
      const request = await rp.authorizationRequest({
        ...(options.scope ? { scope: options.scope } : {}),
        ...(hint ? { login_hint: hint } : {}),
      });
      const sid = randomBytes(16).toString('base64url');
      pending.set(sid, request);
      return {
        status: 302,
        headers: { location: request.url, 'set-cookie': `portal.sid=${sid}; Path=/; HttpOnly; Secure; SameSite=Lax` },
        body: '',
      };
    }
    if (target.pathname === '/cb') {
      const sid = /(?:^|;\s*)portal\.sid=([^;]+)/.exec(cookie)?.[1];
      const request = sid ? pending.get(sid) : undefined;
      if (!rp || !sid || !request) return html(400, 'No hay un inicio de sesión en curso');
      pending.delete(sid);
      const tokens = await rp.exchange(target.href, request);
      const claims = tokens.claims()! as Record<string, unknown>;
      signIns.push({ sub: String(claims['sub']), email: claims['email'], claims });
      return html(200, `Sesión iniciada: ${String(claims['email'])}`);
    }
    if (target.pathname === '/') return html(200, 'Portal de Clientes');
    return html(404, 'No encontrado');
  }

  const portalFetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin) return fetch(input, init);
    const headers = new Headers(init?.headers);
    return new Promise<Response>((resolve, reject) => {
      const req = https.request(
        url,
        { method: init?.method ?? 'GET', headers: Object.fromEntries(headers), ca: certificate },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const out = new Headers();
            for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: out }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(typeof init?.body === 'string' ? init.body : undefined);
    });
  };

  return {
    origin,
    initiateLoginUri: `${origin}/login`,
    redirectUri,
    signIns,
    fetch: portalFetch,
    certificate,
    async connect(iss, clientId, clientSecret) {
      issuer = iss;
      rp = await RelyingParty.discover(iss, clientId, clientSecret, redirectUri);
    },
    forget() {
      pending.clear();
      signIns.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
