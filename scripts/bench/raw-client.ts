/**
 * A lean HTTP/1.1 keep-alive client for one fixed request, for the paced (open-loop) load:
 * node:http costs a few hundred microseconds of CPU per request, which at several thousand
 * requests per second would make the load generator, not the server, the thing measured.
 * Handles responses with Content-Length (all the token endpoint sends); anything else closes
 * the connection and counts as an error.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
}

type Waiter = { resolve: (r: RawResponse) => void; reject: (e: Error) => void };

class Connection {
  private socket: net.Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  busy = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  private open(): net.Socket {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    socket.setTimeout(this.timeoutMs);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('timeout', () => socket.destroy(new Error('timeout')));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.fail(new Error('connection closed'));
    });
    this.socket = socket;
    return socket;
  }

  send(request: Buffer): Promise<RawResponse> {
    this.buffer = Buffer.alloc(0);
    const socket = this.socket ?? this.open();
    return new Promise<RawResponse>((resolve, reject) => {
      this.waiter = { resolve, reject };
      socket.write(request);
    });
  }

  private fail(error: Error): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const headerEnd = this.buffer.indexOf('\r\n\r\n');
    if (headerEnd === -1) return;
    const head = this.buffer.toString('latin1', 0, headerEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
    if (length === undefined) {
      this.socket?.destroy();
      this.fail(new Error(`response without content-length (status ${status})`));
      return;
    }
    if (this.buffer.length < headerEnd + 4 + Number(length)) return;
    const close = /\r\nconnection:\s*close/i.test(head);
    this.buffer = Buffer.alloc(0);
    const waiter = this.waiter;
    this.waiter = undefined;
    if (close) {
      const socket = this.socket;
      this.socket = undefined;
      socket?.destroy();
    }
    waiter?.resolve({ status });
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** Up to `size` connections; requests beyond that wait in line (their wait counts as latency). */
export class RawPool {
  private readonly connections: Connection[];
  private readonly requests: Buffer[];
  /** Requests sent so far: the next one carries requests[sentCount % n]. */
  private sentCount = 0;
  private readonly queue: Array<{ run: (c: Connection) => void }> = [];

  constructor(
    origin: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    /**
     * One body for every request, or several taken in turn by the requests (request k sends
     * bodies[k % n]), whichever connection carries them: a paced load uses its first free
     * connections most, so bodies tied to connections would be sent unevenly (and a refresh
     * token left unused long enough falls out of the bare provider's 1,000-entry memory store).
     */
    body: string | string[] | undefined,
    size: number,
    timeoutMs = 10_000,
  ) {
    const url = new URL(origin);
    const requestWith = (body: string | undefined) => {
      const bodyBuffer = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
      const lines = [`${method} ${path} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive'];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      if (body !== undefined) lines.push(`content-length: ${bodyBuffer.length}`);
      return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), bodyBuffer]);
    };
    this.requests = (Array.isArray(body) ? body : [body]).map(requestWith);
    this.connections = Array.from(
      { length: size },
      () => new Connection(url.hostname, Number(url.port || 80), timeoutMs),
    );
  }

  send(): Promise<RawResponse> {
    const free = this.connections.find((c) => !c.busy);
    if (free) return this.dispatch(free);
    return new Promise<RawResponse>((resolve, reject) => {
      this.queue.push({ run: (c) => this.dispatch(c).then(resolve, reject) });
    });
  }

  private dispatch(connection: Connection): Promise<RawResponse> {
    connection.busy = true;
    const release = () => {
      const next = this.queue.shift();
      if (next) next.run(connection);
      else connection.busy = false;
    };
    const sent = connection.send(this.requests[this.sentCount++ % this.requests.length]!);
    sent.then(release, release);
    return sent;
  }

  close(): void {
    for (const c of this.connections) c.close();
  }
}
