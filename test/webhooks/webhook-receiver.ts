import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
}

/** A webhook endpoint on loopback: records every POST, answering with the next of `statuses` (then 204). */
export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  const statuses: number[] = [];
  const waiters: Array<() => void> = [];
  let gate: Promise<void> | undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      received.push({ headers, body });
      for (const wake of waiters.splice(0)) wake();
      const status = statuses.shift() ?? 204;
      void (gate ?? Promise.resolve()).then(() => res.writeHead(status).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/umbral`,
    received,
    /** The next answers, in order (e.g. [500]: the next POST fails once). */
    answer(...next: number[]) {
      statuses.push(...next);
    },
    /** Holds every answer until the returned function is called. */
    hold(): () => void {
      let release = () => {};
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    reset() {
      received.length = 0;
      statuses.length = 0;
    },
    /** Resolves once `count` webhooks arrived in all, or rejects after `ms` (a failing test, not a wait). */
    async waitFor(count: number, ms = 5000): Promise<ReceivedWebhook[]> {
      const deadline = Date.now() + ms;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} webhooks, got ${received.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
