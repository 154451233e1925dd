import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa from 'koa';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { parseTrustProxy } from '../../src/config/trust-proxy.ts';
import { clientAddress, resolveClientAddress } from '../../src/http/client-address.ts';
import { HttpBrowser } from '../support/http-browser.ts';
import { RelyingParty } from '../support/relying-party.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { type RunningUmbral, startUmbral } from '../support/umbral-server.ts';

const REDIRECT = 'http://127.0.0.1:9/cb';

test('TRUST_PROXY: false, true (one proxy), a hop count, or proxy addresses and CIDRs', (t) => {
  t.deepEqual(parseTrustProxy(undefined), { kind: 'none' });
  t.deepEqual(parseTrustProxy('false'), { kind: 'none' });
  t.deepEqual(parseTrustProxy('true'), { kind: 'hops', hops: 1 });
  t.deepEqual(parseTrustProxy('2'), { kind: 'hops', hops: 2 });
  t.deepEqual(parseTrustProxy(' 10.0.0.0/8, 2001:DB8::/32 ,127.0.0.1,[::1]'), {
    kind: 'addresses',
    ranges: [
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '2001:db8::', prefix: 32, family: 'ipv6' },
      { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
    ],
  });
  for (const bad of ['maybe', '10.0.0.0/33', 'fd00::/200', '10.0.0.1,,10.0.0.2', 'proxy.example.com', '1.2.3', '-1']) {
    const error = t.throws(() => loadConfig({ TRUST_PROXY: bad }), { instanceOf: ConfigError }, bad);
    t.is(error?.variable, 'TRUST_PROXY', bad);
    t.regex(error?.message ?? '', /^TRUST_PROXY: /, bad);
  }
});

test('with one proxy the rightmost entry is the client; with two, the one before it', (t) => {
  const one = parseTrustProxy('1');
  t.is(resolveClientAddress(one, '10.0.0.5', '6.6.6.6, 203.0.113.7').ip, '203.0.113.7');
  t.is(resolveClientAddress(one, '10.0.0.5', '203.0.113.7').ip, '203.0.113.7');
  t.is(resolveClientAddress(one, '10.0.0.5', undefined).ip, '10.0.0.5', 'no header: the peer');
  t.is(resolveClientAddress(one, '::ffff:10.0.0.5', '[2001:db8::7]:5123').ip, '2001:db8::7');
  const two = parseTrustProxy('2');
  t.is(resolveClientAddress(two, '10.0.0.5', '6.6.6.6, 203.0.113.7, 10.0.0.9').ip, '203.0.113.7');
  t.is(resolveClientAddress(two, '10.0.0.5', 'not-an-ip, 10.0.0.9').ip, '10.0.0.9', 'garbage is never the client');
  const none = parseTrustProxy('false');
  t.deepEqual(resolveClientAddress(none, '::ffff:192.0.2.1', '6.6.6.6'), { ip: '192.0.2.1', peerTrusted: false });
});

test('with proxy addresses the client is the rightmost entry that is not a proxy, in IPv4 and IPv6', (t) => {
  const trust = parseTrustProxy('10.0.0.0/8, 2001:db8:ffff::/48');
  t.deepEqual(resolveClientAddress(trust, '10.1.2.3', '6.6.6.6, 203.0.113.7, 10.9.9.9'), {
    ip: '203.0.113.7',
    peerTrusted: true,
  });
  t.is(resolveClientAddress(trust, '2001:db8:ffff::1', '2001:db8:1::5, 2001:db8:ffff::2').ip, '2001:db8:1::5');
  t.is(resolveClientAddress(trust, '10.1.2.3', '10.4.4.4').ip, '10.4.4.4', 'all trusted: the leftmost');
  t.deepEqual(
    resolveClientAddress(trust, '192.0.2.50', '6.6.6.6, 10.1.1.1'),
    { ip: '192.0.2.50', peerTrusted: false },
    'a peer that is not a proxy is the client, whatever it claims',
  );
  t.is(resolveClientAddress(trust, '10.1.2.3', 'junk, 10.2.2.2').ip, '10.2.2.2');
});

/** A bare Koa app with the middleware, answering what Koa and oidc-provider would read. */
async function echoServer(t: import('ava').ExecutionContext, trustProxy: string): Promise<string> {
  const trust = parseTrustProxy(trustProxy);
  const app = new Koa();
  app.proxy = trust.kind !== 'none';
  app.use(clientAddress(trust));
  app.use((ctx) => {
    ctx.body = { ip: ctx.ip, protocol: ctx.protocol, host: ctx.host };
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('X-Forwarded-Proto and -Host count only from a trusted peer', async (t) => {
  const headers = {
    'x-forwarded-for': '6.6.6.6, 203.0.113.7',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'id.example.com',
  };
  const trusted = await echoServer(t, '127.0.0.0/8');
  t.deepEqual(await (await fetch(trusted, { headers })).json(), {
    ip: '203.0.113.7',
    protocol: 'https',
    host: 'id.example.com',
  });
  const untrusted = await echoServer(t, '10.0.0.0/8');
  const answer = (await (await fetch(untrusted, { headers })).json()) as Record<string, string>;
  t.deepEqual({ ip: answer['ip'], protocol: answer['protocol'] }, { ip: '127.0.0.1', protocol: 'http' });
  t.regex(answer['host'] ?? '', /^127\.0\.0\.1:\d+$/);
});

/** Failed sign-ins, each from a "new" address the client made up, through a proxy on 127.0.0.1. */
async function spoofedFailures(rp: RelyingParty, count: number): Promise<void> {
  for (let attempt = 0; attempt < count; attempt++) {
    const browser = new HttpBrowser({ 'x-forwarded-for': `198.51.100.${attempt + 1}, 203.0.113.7` });
    const request = await rp.authorizationRequest();
    const identifier = await browser.open(request.url, REDIRECT);
    const passwordPage = await browser.submit(identifier, '/identifier', { email: `nadie${attempt}@example.com` });
    await browser.submit(passwordPage, '/password', { password: 'not the password' }, REDIRECT);
  }
}

async function ipCounters(server: RunningUmbral): Promise<Record<string, number>> {
  const rows = await server.umbral.storage.db
    .selectFrom('throttle')
    .select(['key', 'failures'])
    .where('key', 'like', 'ip:%')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.key, row.failures]));
}

for (const kind of JOURNEY_STORES) {
  for (const trustProxy of ['true', '127.0.0.1', '127.0.0.0/8, ::1']) {
    test.serial(
      `[${kind}] TRUST_PROXY=${trustProxy}: a spoofed X-Forwarded-For does not get past the per-address throttle`,
      async (t) => {
        const store = await createTestStore(kind);
        t.teardown(() => store.cleanup());
        const server = await startUmbral(store, { TRUST_PROXY: trustProxy });
        t.teardown(() => server.stop());
        const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
        const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
        await spoofedFailures(rp, 3);
        t.deepEqual(await ipCounters(server), { 'ip:203.0.113.7': 3 }, 'one counter: the address the proxy saw');
      },
    );
  }

  test.serial(`[${kind}] without TRUST_PROXY, X-Forwarded-For is ignored`, async (t) => {
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const server = await startUmbral(store);
    t.teardown(() => server.stop());
    const client = await server.registerClient({ clientId: 'portal', redirectUris: [REDIRECT] });
    const rp = await RelyingParty.discover(server.issuer, 'portal', client.client_secret, REDIRECT);
    await spoofedFailures(rp, 2);
    t.deepEqual(await ipCounters(server), { 'ip:127.0.0.1': 2 });
  });
}
