import test from 'ava';
import {
  DEFAULT_THROTTLE_POLICY,
  delayAfterFailures,
  resolveThrottlePolicy,
} from '../../src/throttling/throttle-policy.ts';

test('delays double past the free failures up to the cap', (t) => {
  const delays = Array.from(
    { length: 20 },
    (_, i) => delayAfterFailures(DEFAULT_THROTTLE_POLICY.account, i + 1) / 1000,
  );
  t.deepEqual(delays, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
  t.is(delayAfterFailures(DEFAULT_THROTTLE_POLICY.pair, 1_000_000), 15 * 60 * 1000, 'huge counts stay finite');
});

test('overrides replace single settings and keep the other defaults', (t) => {
  const policy = resolveThrottlePolicy({ ip: { freeFailures: 3 } });
  t.deepEqual(policy.ip, { ...DEFAULT_THROTTLE_POLICY.ip, freeFailures: 3 });
  t.deepEqual(policy.pair, DEFAULT_THROTTLE_POLICY.pair);
  t.deepEqual(policy.account, DEFAULT_THROTTLE_POLICY.account);
});

test('nonsensical policies are refused', (t) => {
  t.throws(() => resolveThrottlePolicy({ pair: { freeFailures: -1 } }), { instanceOf: RangeError });
  t.throws(() => resolveThrottlePolicy({ pair: { freeFailures: 1.5 } }), { instanceOf: RangeError });
  t.throws(() => resolveThrottlePolicy({ account: { baseDelayMs: 0 } }), { instanceOf: RangeError });
  t.throws(() => resolveThrottlePolicy({ account: { maxDelayMs: 500 } }), { instanceOf: RangeError });
  t.throws(() => resolveThrottlePolicy({ ip: { windowMs: Number.NaN } }), { instanceOf: RangeError });
});
