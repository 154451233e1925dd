import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { MICROSOFT_CONSUMERS_TENANT_ID, type MicrosoftSettings } from '../../src/federation/federation-settings.ts';
import { MicrosoftIssuer } from '../../src/federation/microsoft-issuer.ts';

const TENANT = '11111111-1111-4111-8111-111111111111';
const base = { LOG_LEVEL: 'silent', DATA_DIR: '/tmp/umbral-config-test' };

function refusal(env: Record<string, string>): string {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return 'accepted';
}

test('without GOOGLE_* or MICROSOFT_* federation is off; with them, defaults are Google and the common endpoint', (t) => {
  t.deepEqual(loadConfig(base).federation, {
    google: undefined,
    microsoft: undefined,
    autoLink: false,
    trustUpstreamMfa: false,
  });
  const config = loadConfig({
    ...base,
    GOOGLE_CLIENT_ID: 'g',
    GOOGLE_CLIENT_SECRET: 'gs',
    MICROSOFT_CLIENT_ID: 'm',
    MICROSOFT_CLIENT_SECRET: 'ms',
  });
  t.like(config.federation.google, { issuer: 'https://accounts.google.com', allowedDomains: [] });
  t.like(config.federation.microsoft, {
    authority: 'https://login.microsoftonline.com',
    tenant: 'common',
    allowedTenants: [],
    trustEmail: false,
  });
});

test('bad federation settings stop the start with a message naming the variable', (t) => {
  t.is(refusal({ GOOGLE_CLIENT_ID: 'g' }), 'GOOGLE_CLIENT_SECRET: must be set when GOOGLE_CLIENT_ID is');
  t.is(refusal({ MICROSOFT_CLIENT_SECRET: 's' }), 'MICROSOFT_CLIENT_ID: must be set when MICROSOFT_CLIENT_SECRET is');
  const ms = { MICROSOFT_CLIENT_ID: 'm', MICROSOFT_CLIENT_SECRET: 's' };
  t.is(
    refusal({ ...ms, MICROSOFT_TENANT: 'contoso.onmicrosoft.com' }),
    'MICROSOFT_TENANT: must be common, organizations, consumers or a tenant id (a GUID)',
  );
  t.is(
    refusal({ ...ms, MICROSOFT_AUTHORITY: 'http://login.example.com' }),
    'MICROSOFT_AUTHORITY: must be https:// unless the host is a loopback address',
  );
  t.is(
    refusal({ ...ms, MICROSOFT_ALLOWED_TENANTS: `${TENANT},acme` }),
    'MICROSOFT_ALLOWED_TENANTS: "acme" is not a tenant id (a GUID)',
  );
  t.is(
    refusal({ GOOGLE_CLIENT_ID: 'g', GOOGLE_CLIENT_SECRET: 's', GOOGLE_ALLOWED_DOMAINS: 'acme.com, not a domain' }),
    'GOOGLE_ALLOWED_DOMAINS: "not" is not a domain name',
  );
  t.is(refusal({ FEDERATION_AUTO_LINK: 'maybe' }), 'FEDERATION_AUTO_LINK: must be true or false');
});

function issuer(tenant: string): MicrosoftIssuer {
  const settings: MicrosoftSettings = {
    clientId: 'm',
    clientSecret: 's',
    tenant,
    authority: 'https://login.microsoftonline.us',
    allowedTenants: [],
    trustEmail: false,
  };
  return new MicrosoftIssuer(settings);
}

test('Microsoft issuers: the template only for common and organizations, and which tenants each endpoint admits', (t) => {
  const template = 'https://login.microsoftonline.us/{tenantid}/v2.0';
  t.true(issuer('common').acceptsDiscovered(template));
  t.true(issuer('organizations').acceptsDiscovered(template));
  t.false(issuer(TENANT).acceptsDiscovered(template), 'a tenant endpoint must publish its own issuer');
  t.true(issuer(TENANT).acceptsDiscovered(`https://login.microsoftonline.us/${TENANT}/v2.0`));
  t.true(
    issuer('consumers').acceptsDiscovered(`https://login.microsoftonline.us/${MICROSOFT_CONSUMERS_TENANT_ID}/v2.0`),
  );
  t.false(issuer('common').acceptsDiscovered('https://login.microsoftonline.com/{tenantid}/v2.0'), 'another cloud');

  t.is(issuer('common').expectedIssuer(TENANT), `https://login.microsoftonline.us/${TENANT}/v2.0`);
  t.is(issuer('organizations').expectedIssuer(MICROSOFT_CONSUMERS_TENANT_ID), undefined);
  t.is(issuer('consumers').expectedIssuer(TENANT), undefined);
  t.is(issuer(TENANT).expectedIssuer('22222222-2222-4222-8222-222222222222'), undefined);
  t.is(issuer('common').expectedIssuer('../evil'), undefined);
  t.is(issuer('common').expectedIssuer(undefined), undefined);
});
