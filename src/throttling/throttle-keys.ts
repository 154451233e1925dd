import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** The storage keys of the three counters one attempt touches. */
export interface ThrottleKeys {
  pair: string;
  account: string;
  ip: string;
}

/**
 * Emails are keyed by a hash so that the throttle table (and Redis) never holds them in clear;
 * `acct-ip:` before `acct:` keeps scopes apart, and the hash has a fixed length, so no key of one
 * scope can be mistaken for another's.
 */
export function throttleKeys(identifier: string, ip: string): ThrottleKeys {
  const account = hashIdentifier(identifier);
  const address = throttledAddress(ip);
  return { pair: `acct-ip:${account}:${address}`, account: `acct:${account}`, ip: `ip:${address}` };
}

export function hashIdentifier(identifier: string): string {
  return createHash('sha256').update(identifier.trim().toLowerCase()).digest('hex');
}

/**
 * The unit an address is throttled as. IPv4-mapped IPv6 (`::ffff:192.0.2.1`, as Node reports
 * IPv4 clients on dual-stack sockets) counts as the IPv4 address. IPv6 counts by its /64: one
 * host usually owns a whole /64, so counting single addresses would let it rotate through
 * billions of them.
 */
export function throttledAddress(ip: string): string {
  let address = ip.trim().toLowerCase();
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (address.startsWith('::ffff:') && isIPv4(address.slice('::ffff:'.length))) return address.slice('::ffff:'.length);
  if (!isIPv6(address)) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in shortest hex (a trailing dotted IPv4 part is left unparsed). */
function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const width = (groups: string[]) => groups.reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
  const zeros = tail === undefined ? [] : Array<string>(8 - width(headGroups) - width(tailGroups)).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) =>
    group.includes('.') ? group : parseInt(group, 16).toString(16),
  );
}
