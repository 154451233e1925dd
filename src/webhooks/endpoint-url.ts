import net from 'node:net';
import { isSpecialUseIP } from 'oidc-provider/lib/helpers/fetch_request.js';

/** Hosts that name this machine. */
function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

/**
 * Why `raw` cannot be a webhook endpoint, or undefined when it can. https, or http only to a
 * loopback host and only with ALLOW_PRIVATE_NETWORK_FETCH (a receiver on the same machine); no
 * credentials, no fragment. Without the flag an IP address of a private or special-use range
 * (or localhost) is refused here; names are checked again when each delivery resolves them.
 */
export function endpointUrlProblem(raw: string, allowPrivateNetwork: boolean): string | undefined {
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return 'must be an https:// URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.hash) return 'must not carry a fragment';
  if (raw.length > 2048) return 'must be at most 2048 characters';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = isLoopbackName(host) || (net.isIP(host) !== 0 && isLoopbackAddress(host));
  if (url.protocol === 'http:') {
    if (!loopback) return 'must be https:// (http:// only to a loopback host, with ALLOW_PRIVATE_NETWORK_FETCH)';
    if (!allowPrivateNetwork) return 'may be http:// to a loopback host only when ALLOW_PRIVATE_NETWORK_FETCH is set';
  }
  if (!allowPrivateNetwork && (isLoopbackName(host) || (net.isIP(host) !== 0 && isSpecialUseIP(host)))) {
    return `${host} is a private or special-use address (set ALLOW_PRIVATE_NETWORK_FETCH to allow one)`;
  }
  return undefined;
}

function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
