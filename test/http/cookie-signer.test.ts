import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa from 'koa';
import { CookieSigner } from '../../src/http/cookie-signer.ts';

/**
 * A Koa app that sets the signed cookie `c` on /set?v=… and answers /get with what it reads.
 * `keys` as an array is Koa's default (the cookies package's keygrip); a CookieSigner is ours.
 */
async function cookieApp(t: import('ava').ExecutionContext, keys: string[] | CookieSigner) {
  const app = new Koa();
  app.keys = keys;
  app.use((ctx) => {
    if (ctx.path === '/set') ctx.cookies.set('c', String(ctx.query['v']), { signed: true });
    ctx.body = ctx.cookies.get('c', { signed: true }) ?? '(none)';
  });
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    /** The Set-Cookie pairs of /set?v=value, as `name=value` strings. */
    async set(value: string): Promise<string[]> {
      const response = await fetch(`${base}/set?v=${encodeURIComponent(value)}`);
      return response.headers.getSetCookie().map((line) => line.split(';')[0]!);
    },
    /** What the app reads from these cookies, and the pairs it sets back, if any. */
    async get(cookies: string[]): Promise<{ value: string; setCookies: string[] }> {
      const response = await fetch(`${base}/get`, { headers: { cookie: cookies.join('; ') } });
      return { value: await response.text(), setCookies: response.headers.getSetCookie() };
    },
  };
}

test('cookies signed by keygrip verify with the signer, and the signer signs them as keygrip does', async (t) => {
  const keygripApp = await cookieApp(t, ['newest-secret', 'older-secret']);
  const signerApp = await cookieApp(t, new CookieSigner(['newest-secret', 'older-secret']));
  const byKeygrip = await keygripApp.set('session-uid-1');
  const bySigner = await signerApp.set('session-uid-1');
  t.is(byKeygrip.length, 2, 'the value and its .sig');
  t.deepEqual(bySigner, byKeygrip, 'the same signature for the same name, value and key');
  t.deepEqual(await signerApp.get(byKeygrip), { value: 'session-uid-1', setCookies: [] });
  t.deepEqual(await keygripApp.get(bySigner), { value: 'session-uid-1', setCookies: [] });
});

test('a cookie signed with an older key still verifies, and is signed again with the newest', async (t) => {
  const before = await cookieApp(t, new CookieSigner(['older-secret']));
  const after = await cookieApp(t, new CookieSigner(['newest-secret', 'older-secret']));
  const signedBefore = await before.set('uid-2');
  const read = await after.get(signedBefore);
  t.is(read.value, 'uid-2');
  const resigned = read.setCookies.map((line) => line.split(';')[0]!);
  t.is(resigned.length, 1, 'only the .sig is set again');
  t.deepEqual([signedBefore[0]!, resigned[0]!], await after.set('uid-2'), "the newest key's signature");
});

test('a changed value, a changed or missing signature, or a key no longer kept: the cookie is not read', async (t) => {
  const app = await cookieApp(t, new CookieSigner(['newest-secret']));
  const [value, sig] = await app.set('uid-3');
  const other = await cookieApp(t, new CookieSigner(['another-secret']));
  const cases: Array<[string, string[]]> = [
    ['changed value', ['c=uid-4', sig!]],
    ['changed signature', [value!, `${sig!.slice(0, -1)}${sig!.endsWith('A') ? 'B' : 'A'}`]],
    ['shorter signature', [value!, sig!.slice(0, -2)]],
    ['no signature', [value!]],
  ];
  for (const [name, cookies] of cases) t.is((await app.get(cookies)).value, '(none)', name);
  t.is((await other.get([value!, sig!])).value, '(none)', 'signed with a key this signer does not hold');
  t.is((await app.get([value!, sig!])).value, 'uid-3', 'and the untouched pair still reads');
});

test('a signer without keys is refused at once', (t) => {
  t.throws(() => new CookieSigner([]), { message: 'cookie signing needs at least one key' });
});
