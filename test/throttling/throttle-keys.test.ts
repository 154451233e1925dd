import { createHash } from 'node:crypto';
import test from 'ava';
import { throttledAddress, throttleKeys } from '../../src/throttling/throttle-keys.ts';

test('keys name the scope and hash the normalized email', (t) => {
  const hash = createHash('sha256').update('ana@example.com').digest('hex');
  t.deepEqual(throttleKeys('  ANA@Example.com\t', '192.0.2.1'), {
    pair: `acct-ip:${hash}:192.0.2.1`,
    account: `acct:${hash}`,
    ip: 'ip:192.0.2.1',
  });
});

const addresses: Array<[string, string]> = [
  ['192.0.2.1', '192.0.2.1'],
  [' 192.0.2.1 ', '192.0.2.1'],
  ['::ffff:192.0.2.1', '192.0.2.1'],
  ['::FFFF:192.0.2.1', '192.0.2.1'],
  ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
  ['2001:DB8:0001:0002::9', '2001:db8:1:2::/64'],
  ['2001:db8::1', '2001:db8:0:0::/64'],
  ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ['::1', '0:0:0:0::/64'],
  ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ['1::4:5:6:7:192.0.2.1', '1:0:4:5::/64'],
  ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4::/64'],
  ['not an address', 'not an address'],
];
for (const [ip, expected] of addresses) {
  test(`${JSON.stringify(ip)} is throttled as ${expected}`, (t) => {
    t.is(throttledAddress(ip), expected);
  });
}
