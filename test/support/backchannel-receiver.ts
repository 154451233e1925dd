import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A relying party's back-channel logout endpoint on loopback: records every logout_token it is sent. */
export async function startBackchannelReceiver() {
  const tokens: string[] = [];
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (req.method === 'POST' && token) tokens.push(token);
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/backchannel-logout`,
    tokens,
    /** Resolves once `count` tokens arrived, or rejects after `ms`. */
    async waitFor(count: number, ms = 5000): Promise<string[]> {
      const deadline = Date.now() + ms;
      while (tokens.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} logout tokens, got ${tokens.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return tokens;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
