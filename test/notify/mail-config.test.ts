import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { withLinks } from '../../src/notify/dev-outbox-router.ts';
import { EmailRenderer, EmailTemplateError } from '../../src/notify/email-renderer.ts';

test('a SMTP_URL that is not smtp:// or smtps:// is refused at config load', (t) => {
  for (const url of ['http://mail.example.com', 'mail.example.com:587', 'smtp//user:pass@mail']) {
    const error = t.throws(() => loadConfig({ SMTP_URL: url }), { instanceOf: ConfigError });
    t.is(error.variable, 'SMTP_URL', url);
    t.regex(error.message, /smtp:\/\/ or smtps:\/\//);
  }
});

test('production without SMTP_URL refuses to start; with it, mail settings are read', (t) => {
  const error = t.throws(() => loadConfig({ NODE_ENV: 'production' }), { instanceOf: ConfigError });
  t.is(error.variable, 'SMTP_URL');
  t.regex(error.message, /must be set in production/);
  const config = loadConfig({
    NODE_ENV: 'production',
    SMTP_URL: 'smtps://u:p@mail.example.com:465',
    MAIL_FROM: 'Acme <no-reply@acme.example>',
    SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  });
  t.is(config.smtpUrl, 'smtps://u:p@mail.example.com:465');
  t.is(config.mailFrom, 'Acme <no-reply@acme.example>');
  t.is(
    loadConfig({ PRODUCT_NAME: 'Acme ID', ISSUER: 'https://id.acme.example', SMTP_URL: 'smtp://mail:25' }).mailFrom,
    'Acme ID <no-reply@id.acme.example>',
  );
});

test('a public ISSUER without SMTP_URL refuses to start, whatever NODE_ENV says; loopback ones keep the dev outbox', (t) => {
  for (const env of [{}, { NODE_ENV: 'development' }, { NODE_ENV: 'test' }]) {
    const error = t.throws(() => loadConfig({ ...env, ISSUER: 'https://id.acme.example' }), {
      instanceOf: ConfigError,
    });
    t.is(error.variable, 'SMTP_URL');
    t.regex(
      error.message,
      /^SMTP_URL: must be set when ISSUER \(https:\/\/id\.acme\.example\) is not a loopback address/,
    );
  }
  const https = loadConfig({ ISSUER: 'https://id.acme.example', SMTP_URL: 'smtp://mail:25' });
  t.false(https.devOutbox, 'https issuer with SMTP: no outbox');
  for (const issuer of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://127.8.9.1', 'http://[::1]:3000']) {
    t.true(loadConfig({ ISSUER: issuer }).devOutbox, issuer);
    t.false(loadConfig({ ISSUER: issuer, SMTP_URL: 'smtp://mail:25' }).devOutbox, `${issuer} with SMTP`);
  }
  t.true(loadConfig({ ISSUER: 'https://localhost:8443' }).devOutbox, 'https on localhost is still loopback');
  t.throws(() => loadConfig({ ISSUER: 'https://127.example.com' }), { instanceOf: ConfigError }, 'not loopback');
});

test('the renderer makes the logo absolute and keeps an absolute LOGO_URL as it is', async (t) => {
  const relative = new EmailRenderer({
    productName: 'Acme',
    logoUrl: '/brand/acme.png',
    issuer: 'https://id.acme.example',
  });
  t.true((await relative.render('smtp-check', 'en', {})).html.includes('src="https://id.acme.example/brand/acme.png"'));
  const absolute = new EmailRenderer({
    productName: 'Acme',
    logoUrl: 'https://cdn.acme.example/logo.png',
    issuer: 'https://id.acme.example',
  });
  const rendered = await absolute.render('smtp-check', 'pt-BR', {});
  t.true(rendered.html.includes('src="https://cdn.acme.example/logo.png"'));
  t.is(rendered.subject, 'Acme: e-mail de teste');
});

test('the renderer refuses unknown templates and template names that are paths', async (t) => {
  const renderer = new EmailRenderer({ productName: 'Acme', logoUrl: undefined, issuer: 'https://id.acme.example' });
  await t.throwsAsync(renderer.render('no-such-email', 'es', {}), { instanceOf: EmailTemplateError });
  await t.throwsAsync(renderer.render('../pages/error', 'es', {}), {
    instanceOf: EmailTemplateError,
    message: /invalid email template name/,
  });
});

test('links in plain text are found without the punctuation that follows them', (t) => {
  t.deepEqual(withLinks('Open https://id.example.com/v?t=1. Then (http://x.example/a).'), [
    { text: 'Open ' },
    { text: 'https://id.example.com/v?t=1', href: 'https://id.example.com/v?t=1' },
    { text: '. Then (' },
    { text: 'http://x.example/a', href: 'http://x.example/a' },
    { text: ').' },
  ]);
});
