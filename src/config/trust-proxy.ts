import { isIP } from 'node:net';
import { ConfigError } from './config-error.ts';

/**
 * TRUST_PROXY: no proxy; a number of proxies in front (each appends to X-Forwarded-For), so the
 * client is that many entries from the right; or the proxies' own addresses, so the client is the
 * rightmost entry that is not one of them.
 */
export type TrustProxy =
  | { kind: 'none' }
  | { kind: 'hops'; hops: number }
  | { kind: 'addresses'; ranges: ProxyRange[] };

/** One trusted proxy address or network: `10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`. */
export interface ProxyRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

const TRUST_PROXY_FORMS =
  'must be false, true (one proxy), a number of proxies (1, 2…) or a comma-separated list of proxy addresses or CIDRs (10.0.0.0/8, 2001:db8::/32)';

export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim().toLowerCase() ?? '';
  if (text === '' || text === 'false' || text === 'no' || text === '0') return { kind: 'none' };
  // `true` meant "trust X-Forwarded-For": kept as one proxy in front, the common setup.
  if (text === 'true' || text === 'yes') return { kind: 'hops', hops: 1 };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 20)
      throw new ConfigError('TRUST_PROXY', `${text} proxies in a row is not plausible: ${TRUST_PROXY_FORMS}`);
    return { kind: 'hops', hops };
  }
  const ranges = text.split(',').map((entry) => entry.trim());
  return { kind: 'addresses', ranges: ranges.map(proxyRange) };
}

function proxyRange(entry: string): ProxyRange {
  const [rawAddress = '', rawPrefix, ...rest] = entry.split('/');
  const address = rawAddress.replace(/^\[(.*)\]$/, '$1');
  const version = isIP(address);
  if (!entry || rest.length || version === 0) {
    throw new ConfigError('TRUST_PROXY', `"${entry}" is not an IP address or CIDR: ${TRUST_PROXY_FORMS}`);
  }
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  const prefix = rawPrefix === undefined ? bits : /^\d{1,3}$/.test(rawPrefix) ? Number(rawPrefix) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) {
    throw new ConfigError('TRUST_PROXY', `"${entry}": the prefix length must be 0 to ${bits}`);
  }
  return { address, prefix, family };
}
