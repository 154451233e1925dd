import test from 'ava';
import { LOCALES } from '../../src/i18n/i18n.ts';
import { EmailRenderer } from '../../src/notify/email-renderer.ts';

const renderer = new EmailRenderer({ productName: 'Acme ID', logoUrl: undefined, issuer: 'https://id.acme.example' });
const data = {
  name: 'Ana Pérez',
  email: 'ana@example.com',
  factorLabel: 'Aplicación de autenticación: Mi iPhone',
  date: '2026-01-01 12:00 UTC',
  securityUrl: 'https://id.acme.example/account/security',
};

for (const template of ['mfa-factor-added', 'mfa-factor-removed', 'mfa-recovery-codes', 'mfa-reset']) {
  test(`${template} renders in every locale, with the date, the account and the way to review it`, async (t) => {
    for (const locale of LOCALES) {
      const email = await renderer.render(template, locale, data);
      t.true(email.subject.startsWith('Acme ID: '), `${locale}: ${email.subject}`);
      for (const body of [email.text, email.html]) {
        t.true(body.includes('ana@example.com'), locale);
        t.true(body.includes('2026-01-01 12:00 UTC'), locale);
        t.true(body.includes('https://id.acme.example/account/security'), locale);
        t.false(/\{\w+\}/.test(body), `${locale}: no placeholder left`);
      }
      if (template === 'mfa-factor-added' || template === 'mfa-factor-removed')
        t.true(email.text.includes('Mi iPhone'), locale);
    }
  });
}
