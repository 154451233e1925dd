import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { isSpecialUseIP } from 'oidc-provider/lib/helpers/fetch_request.js';
import type { AttemptOutcome } from './webhook-queue.ts';

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface TransportOptions {
  /** ALLOW_PRIVATE_NETWORK_FETCH: loopback and private addresses may be reached. */
  allowPrivateNetwork: boolean;
  /** The whole attempt (connect, request, answer) is abandoned after this; default 10 s. */
  timeoutMs?: number;
}

/** A response body is read (and dropped) up to this much; a receiver has no say beyond its status. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** How attempts are made; tests of the worker may pass their own. */
export type WebhookTransport = (post: WebhookPost) => Promise<AttemptOutcome>;

/**
 * POSTs with node:http(s), never following redirects. Unless private addresses are allowed, the
 * host's addresses are checked when it is resolved, for every attempt (a name that points at a
 * private address later, DNS rebinding, is caught then), with the same special-use list as
 * oidc-provider's guard; an IP address written in the URL is checked before connecting.
 */
export function httpTransport(options: TransportOptions): WebhookTransport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async (post) => {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    try {
      const url = new URL(post.url);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (!options.allowPrivateNetwork && net.isIP(host) && isSpecialUseIP(host)) {
        return { statusCode: null, error: `${host} is a private or special-use address`, durationMs: elapsed() };
      }
      const statusCode = await send(url, post, timeoutMs, options.allowPrivateNetwork);
      return { statusCode, error: null, durationMs: elapsed() };
    } catch (error) {
      return { statusCode: null, error: describe(error, timeoutMs), durationMs: elapsed() };
    }
  };
}

function send(url: URL, post: WebhookPost, timeoutMs: number, allowPrivate: boolean): Promise<number> {
  const client = url.protocol === 'https:' ? https : http;
  const body = Buffer.from(post.body, 'utf8');
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { ...post.headers, 'content-length': String(body.length) },
        signal: AbortSignal.timeout(timeoutMs),
        agent: false,
        ...(allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) response.destroy();
        });
        response.on('close', () => resolve(response.statusCode ?? 0));
        response.on('error', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/** dns.lookup, refusing a name any of whose addresses is private or special-use. */
function publicOnlyLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((a) => isSpecialUseIP(a.address));
    if (refused) {
      const denied: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to a private or special-use address (${refused.address})`,
      );
      denied.code = 'EPRIVATEADDRESS';
      return callback(denied, []);
    }
    const [first] = addresses;
    if (options.all) return callback(null, addresses);
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  return error instanceof Error ? error.message : String(error);
}
