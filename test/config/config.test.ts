import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

test('defaults give a working local setup', (t) => {
  const config = loadConfig({});
  t.is(config.port, 3000);
  t.is(config.issuer, 'http://localhost:3000');
  t.false(config.secure);
  t.true(config.dataDir.endsWith('/data'));
  t.is(config.databaseUrl, undefined);
  t.is(config.logLevel, 'info');
  t.is(config.clientRegistration, 'off');
  t.is(config.orgSchedulerIntervalSeconds, 60);
  t.is(config.orgEndWarningDays, 14);
  t.is(config.auditRetentionDays, 400);
  t.is(config.signInEventsRetentionDays, 400);
});

test('ISSUER follows PORT, loses a trailing slash, and https turns on secure cookies', (t) => {
  t.is(loadConfig({ PORT: '8080' }).issuer, 'http://localhost:8080');
  const secure = loadConfig({ ISSUER: 'https://id.example.com/', TRUST_PROXY: 'true', SMTP_URL: 'smtp://mail:25' });
  t.is(secure.issuer, 'https://id.example.com');
  t.true(secure.secure);
  t.deepEqual(secure.trustProxy, { kind: 'hops', hops: 1 }, 'true keeps meaning one proxy');
});

const invalid: Array<[Record<string, string>, string, RegExp]> = [
  [{ PORT: 'abc' }, 'PORT', /whole number/],
  [{ PORT: '70000' }, 'PORT', /65535/],
  [{ ISSUER: 'ftp://id.example.com' }, 'ISSUER', /http/],
  [{ ISSUER: 'http://id.example.com' }, 'ISSUER', /https/],
  [{ ISSUER: 'https://id.example.com/?x=1' }, 'ISSUER', /query/],
  [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL', /postgres/],
  [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL', /redis/],
  [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY', /"maybe" is not an IP address or CIDR: must be false, true/],
  [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY', /prefix length must be 0 to 32/],
  [{ TRUST_PROXY: '2001:db8::/129' }, 'TRUST_PROXY', /prefix length must be 0 to 128/],
  [{ TRUST_PROXY: '10.0.0.1,,10.0.0.2' }, 'TRUST_PROXY', /"" is not an IP address/],
  [{ TRUST_PROXY: '10.0.0.256' }, 'TRUST_PROXY', /not an IP address or CIDR/],
  [{ TRUST_PROXY: '10.0.0.0/8/1' }, 'TRUST_PROXY', /not an IP address or CIDR/],
  [{ TRUST_PROXY: '-1' }, 'TRUST_PROXY', /not an IP address or CIDR/],
  [{ TRUST_PROXY: '99' }, 'TRUST_PROXY', /not plausible/],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
  [{ CLIENT_REGISTRATION: 'yes' }, 'CLIENT_REGISTRATION', /must be off, token .* or open/],
  [{ ORG_SCHEDULER_INTERVAL_SECONDS: '0' }, 'ORG_SCHEDULER_INTERVAL_SECONDS', /from 1 to 3600/],
  [{ ORG_SCHEDULER_INTERVAL_SECONDS: '1.5' }, 'ORG_SCHEDULER_INTERVAL_SECONDS', /whole number/],
  [{ ORG_SCHEDULER_INTERVAL_SECONDS: 'often' }, 'ORG_SCHEDULER_INTERVAL_SECONDS', /whole number/],
  [{ ORG_END_WARNING_DAYS: '-1' }, 'ORG_END_WARNING_DAYS', /from 0 to 365/],
  [{ ORG_END_WARNING_DAYS: '400' }, 'ORG_END_WARNING_DAYS', /from 0 to 365/],
  [{ COMPANY_SEGMENTS: 'Retail,tech' }, 'COMPANY_SEGMENTS', /lower-case letters/],
  [{ COMPANY_SEGMENTS: 'retail,,tech' }, 'COMPANY_SEGMENTS', /comma-separated list/],
  [{ COMPANY_SEGMENTS: 'retail,tech,retail' }, 'COMPANY_SEGMENTS', /none twice/],
  [{ COMPANY_SEGMENTS: Array.from({ length: 51 }, (_, i) => `s${i}`).join(',') }, 'COMPANY_SEGMENTS', /at most 50/],
  [{ AUDIT_RETENTION_DAYS: '0' }, 'AUDIT_RETENTION_DAYS', /from 1 to 36500/],
  [{ AUDIT_RETENTION_DAYS: 'forever' }, 'AUDIT_RETENTION_DAYS', /whole number/],
];

test('COMPANY_SEGMENTS: a sensible default, or the comma-separated list given', (t) => {
  t.true(loadConfig({}).companySegments.includes('technology'));
  t.is(loadConfig({}).companySegments.at(-1), 'other');
  t.deepEqual(loadConfig({ COMPANY_SEGMENTS: ' mining , salmon-farming,other ' }).companySegments, [
    'mining',
    'salmon-farming',
    'other',
  ]);
});

for (const [env, variable, message] of invalid) {
  test(`${variable}=${Object.values(env)[0]} is refused with a message naming it`, (t) => {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.is(error.variable, variable);
    t.true(error.message.startsWith(`${variable}: `));
    t.regex(error.message, message);
  });
}

test('empty variables count as unset', (t) => {
  t.is(loadConfig({ PORT: '', DATABASE_URL: '' }).port, 3000);
});

test('SUPPORT_URL and SUPPORT_EMAIL: the footer contact, checked', (t) => {
  t.deepEqual(loadConfig({}).support, { url: undefined, email: undefined });
  const both = loadConfig({ SUPPORT_URL: 'https://ayuda.example.com/', SUPPORT_EMAIL: 'soporte@example.com' });
  t.deepEqual(both.support, { url: 'https://ayuda.example.com/', email: 'soporte@example.com' });
  t.throws(() => loadConfig({ SUPPORT_URL: 'ayuda.example.com' }), { message: /^SUPPORT_URL: must be an http/ });
  t.throws(() => loadConfig({ SUPPORT_URL: 'javascript:alert(1)' }), { message: /^SUPPORT_URL/ });
  t.throws(() => loadConfig({ SUPPORT_EMAIL: 'soporte' }), { message: /^SUPPORT_EMAIL: must be an email address/ });
});
