import test from 'ava';
import { requestMode } from '../../src/organizations/client-organization.ts';
import { allowsSignIn, signInWayOf } from '../../src/organizations/sign-in-methods.ts';

test('the amr of each first factor reads as the policy names it', (t) => {
  t.deepEqual(signInWayOf(['pwd'], undefined), { methods: ['password'], unknownUpstream: false });
  t.deepEqual(signInWayOf(['pwd', 'otp', 'mfa'], undefined).methods, ['password'], 'a second factor is not a method');
  t.deepEqual(signInWayOf(['pwd', 'hwk', 'mfa'], undefined).methods, ['password'], 'nor is a passkey after a password');
  t.deepEqual(signInWayOf(['hwk', 'mfa'], undefined).methods, ['passkey'], 'a passkey alone is');
  t.deepEqual(signInWayOf(['swk', 'mfa'], undefined).methods, ['passkey']);
  t.deepEqual(signInWayOf(['fed'], 'google'), { methods: ['google'], unknownUpstream: false });
  t.deepEqual(signInWayOf(['fed', 'mfa'], 'microsoft').methods, ['microsoft']);
  t.deepEqual(signInWayOf(['fed', 'pwd'], 'google').methods.sort(), ['google', 'password'], 'linked with the password');
  t.deepEqual(signInWayOf(['fed'], undefined), { methods: [], unknownUpstream: true });
  t.deepEqual(signInWayOf([], undefined), { methods: [], unknownUpstream: false });
});

test('an organization takes a sign-in by a method it allows; an unknown provider only where both are', (t) => {
  t.true(allowsSignIn(['password', 'passkey'], signInWayOf(['pwd'], undefined)));
  t.false(allowsSignIn(['google', 'microsoft', 'passkey'], signInWayOf(['pwd', 'otp', 'mfa'], undefined)));
  t.true(allowsSignIn(['passkey'], signInWayOf(['hwk', 'mfa'], undefined)));
  t.false(allowsSignIn(['microsoft'], signInWayOf(['fed'], 'google')));
  t.true(allowsSignIn(['google', 'microsoft'], signInWayOf(['fed'], undefined)));
  t.false(allowsSignIn(['google'], signInWayOf(['fed'], undefined)));
  t.false(allowsSignIn(['password'], signInWayOf([], undefined)), 'nothing known, nothing allowed');
});

test('a portal deals with organizations by its setting, or optionally when it asks the scope', (t) => {
  t.is(requestMode({ organization: 'required' }, { scope: 'openid' }), 'required');
  t.is(requestMode({ organization: 'optional' }, { scope: 'openid organization' }), 'optional');
  t.is(requestMode({}, { scope: 'openid email organization' }), 'optional');
  t.is(requestMode({}, { scope: 'openid', organization: 'acme' }), 'optional', 'a named organization is checked');
  t.is(requestMode({}, { scope: 'openid email' }), undefined);
  t.is(requestMode({ organization: 'bogus' }, {}), undefined);
});
