import { BlockList, isIP, isIPv4 } from 'node:net';
import type { Middleware } from 'koa';
import type { TrustProxy } from '../config/trust-proxy.ts';

/**
 * Who the client is, behind proxies. X-Forwarded-For is a list each proxy appends its peer to, so
 * only its right end is written by proxies we trust; everything left of that was sent by the
 * client and proves nothing. The client is therefore:
 *   - without proxies: the socket's peer;
 *   - with N proxies in front: the Nth entry from the right (counting the socket's peer as the last);
 *   - with a list of proxy addresses: the rightmost entry, walking from the peer leftwards, that is
 *     not one of them.
 * Every per-address limit (sign-in throttle, sign-up, forgot password) and the sessions list read
 * `ctx.ip`, which the middleware sets from this; one place decides.
 */
export interface ResolvedClient {
  ip: string;
  /** The socket's peer is a proxy we trust: only then do X-Forwarded-Proto and -Host count. */
  peerTrusted: boolean;
}

export function resolveClientAddress(
  trust: TrustProxy,
  peer: string,
  forwardedFor: string | undefined,
  isTrusted: (address: string) => boolean = trustedAddresses(trust),
): ResolvedClient {
  const socketPeer = plainAddress(peer);
  if (trust.kind === 'none') return { ip: socketPeer, peerTrusted: false };
  // Nearest last: [client-supplied…, …, the peer of our nearest proxy, our nearest proxy].
  const chain = [...forwardedEntries(forwardedFor), socketPeer];
  if (trust.kind === 'hops') {
    // Entries past the proxies' own cannot be checked: the nearest garbage stops the walk.
    let client = socketPeer;
    for (let hop = 1; hop <= trust.hops && hop < chain.length; hop++) {
      const entry = chain[chain.length - 1 - hop]!;
      if (!isIP(entry)) break;
      client = entry;
    }
    return { ip: client, peerTrusted: true };
  }
  const peerTrusted = isTrusted(socketPeer);
  let client = socketPeer;
  for (let index = chain.length - 1; index >= 0; index--) {
    const entry = chain[index]!;
    if (!isIP(entry)) break; // not an address a proxy of ours wrote: keep the last one that was
    client = entry;
    if (!isTrusted(entry)) break;
  }
  return { ip: client, peerTrusted };
}

/**
 * Sets `ctx.ip` to the client's address, and drops X-Forwarded-Proto/-Host sent by a peer we do
 * not trust, so Koa (with `app.proxy` on) and oidc-provider read them only from our proxies.
 */
export function clientAddress(trust: TrustProxy): Middleware {
  const isTrusted = trustedAddresses(trust);
  return (ctx, next) => {
    const forwarded = ctx.get('x-forwarded-for') || undefined;
    const resolved = resolveClientAddress(trust, ctx.req.socket.remoteAddress ?? '', forwarded, isTrusted);
    if (!resolved.peerTrusted) {
      delete ctx.req.headers['x-forwarded-proto'];
      delete ctx.req.headers['x-forwarded-host'];
      delete ctx.req.headers['x-forwarded-for'];
    }
    ctx.request.ip = resolved.ip;
    return next();
  };
}

function trustedAddresses(trust: TrustProxy): (address: string) => boolean {
  if (trust.kind !== 'addresses') return () => trust.kind === 'hops';
  const list = new BlockList();
  for (const range of trust.ranges) list.addSubnet(range.address, range.prefix, range.family);
  return (address) => {
    const version = isIP(address);
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}

/** The entries of X-Forwarded-For (several headers arrive joined by commas), as plain addresses. */
function forwardedEntries(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((entry) => plainAddress(entry.trim()))
    .filter(Boolean);
}

/**
 * `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) → `192.0.2.1`; `[2001:db8::1]:443`
 * and `192.0.2.1:8080` (proxies that add the port) → the address alone. Anything else unchanged.
 */
function plainAddress(raw: string): string {
  let address = raw.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  if (address.startsWith('::ffff:') && isIPv4(address.slice('::ffff:'.length))) return address.slice(7);
  return address;
}
