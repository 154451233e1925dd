import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { createUmbral } from '../../src/app.ts';
import { ClientRegistry } from '../../src/clients/client-registry.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { startSmtpServer } from '../notify/smtp-test-server.ts';
import { createTestStore, testConfig } from '../support/stores.ts';

/** Umbral behind a TLS-terminating proxy: https ISSUER, TRUST_PROXY, X-Forwarded-Proto from the proxy. */
test('under https, cookies are Secure and __Host-/__Secure- prefixed, and HSTS is sent', async (t) => {
  const store = await createTestStore('pglite');
  // A public ISSUER needs a mail server: the dev outbox is for loopback issuers only.
  const smtp = await startSmtpServer();
  const config = testConfig(store, { ISSUER: 'https://id.example.com', TRUST_PROXY: 'true', SMTP_URL: smtp.url });
  const umbral = await createUmbral(config, createLogger('silent'));
  const server = http.createServer(umbral.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await umbral.close();
    await smtp.close();
    await store.cleanup();
  });
  const { port } = server.address() as AddressInfo;
  await new ClientRegistry(umbral.storage.db, umbral.provider).register({
    clientId: 'portal',
    redirectUris: ['https://portal.example.com/cb'],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code'],
    firstParty: true,
    public: false,
  });
  const proxied = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'id.example.com' };
  const auth = await fetch(
    `http://127.0.0.1:${port}/auth?${new URLSearchParams({
      client_id: 'portal',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://portal.example.com/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
    { redirect: 'manual', headers: proxied },
  );
  t.is(auth.status, 303);
  const location = new URL(auth.headers.get('location')!, 'https://id.example.com');
  t.is(location.origin, 'https://id.example.com');
  t.true(location.pathname.startsWith('/interaction/'));
  const interactionCookies = auth.headers.getSetCookie();
  t.true(interactionCookies.length > 0);
  for (const cookie of interactionCookies) {
    t.regex(cookie, /^__Secure-umbral\./);
    t.regex(cookie, /; secure/i);
    t.regex(cookie, /; httponly/i);
  }
  const page = await fetch(`http://127.0.0.1:${port}${location.pathname}`, {
    headers: { ...proxied, cookie: interactionCookies.map((c) => c.split(';')[0]).join('; ') },
  });
  t.is(page.status, 200);
  t.regex(page.headers.get('strict-transport-security')!, /max-age=31536000/);
  const csrf = page.headers.getSetCookie().find((c) => c.startsWith('__Host-umbral.csrf'));
  t.truthy(csrf, 'the CSRF cookie is __Host- prefixed');
  t.regex(csrf!, /; path=\//);
  t.regex(csrf!, /; secure/i);

  // An emailed link's token cookie: Secure and __Secure- (not __Host-: it is scoped to the link's page).
  const link = await fetch(`http://127.0.0.1:${port}/password/reset?token=${'x'.repeat(43)}`, {
    redirect: 'manual',
    headers: proxied,
  });
  t.is(link.status, 303);
  t.is(link.headers.get('location'), '/password/reset');
  const tokenCookie = link.headers.getSetCookie().find((c) => c.startsWith('__Secure-umbral.reset-link='));
  t.truthy(tokenCookie, 'the link cookie is __Secure- prefixed');
  t.regex(tokenCookie!, /; path=\/password\/reset;/);
  t.regex(tokenCookie!, /; secure/i);
  t.regex(tokenCookie!, /; httponly/i);
});
