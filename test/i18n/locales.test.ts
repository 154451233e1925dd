import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../src/config/project-root.ts';
import { LOCALES, messageKeys, negotiateLocale, translator } from '../../src/i18n/i18n.ts';

test('every locale has exactly the same messages', (t) => {
  const spanish = messageKeys('es').sort();
  t.true(spanish.length > 0);
  for (const locale of LOCALES) t.deepEqual(messageKeys(locale).sort(), spanish, locale);
});

test('placeholders are the same in every translation', (t) => {
  const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of messageKeys('es')) {
    const expected = placeholders(rawOf('es', key));
    for (const locale of LOCALES) t.deepEqual(placeholders(rawOf(locale, key)), expected, `${locale} ${key}`);
  }
});

function rawOf(locale: (typeof LOCALES)[number], key: string): string {
  // Translating with placeholders named after themselves gives the raw template back.
  return translator(locale)(key, new Proxy({}, { get: (_, name) => `{${String(name)}}` }));
}

test('negotiation: ui_locales first, then Accept-Language by weight, then Spanish', (t) => {
  t.is(negotiateLocale('pt-BR en', 'es'), 'pt-BR');
  t.is(negotiateLocale('fr pt', undefined), 'pt-BR', 'pt and pt-PT fall back to pt-BR');
  t.is(negotiateLocale(undefined, 'fr-FR,en;q=0.5,es;q=0.8'), 'es');
  t.is(negotiateLocale(undefined, 'en-GB'), 'en');
  t.is(negotiateLocale(undefined, 'de, fr;q=0.9'), 'es');
  t.is(negotiateLocale('', ''), 'es');
  t.is(translator('en')('login.to_continue', { client: 'CRM' }), 'to continue to CRM');
});

test('counted messages take their plural form from the count, by the locale’s rules', (t) => {
  const es = translator('es');
  t.regex(es('login.error.throttled', { count: 1 }), /Espera 1 segundo y/);
  t.regex(es('login.error.throttled', { count: 5 }), /Espera 5 segundos y/);
  t.regex(translator('en')('verify.error.resend_wait', { count: 1 }), /Wait 1 second before/);
  t.regex(translator('pt-BR')('mfa.error.sms_wait', { count: 30 }), /em 30 segundos/);
  for (const locale of LOCALES) {
    for (const key of messageKeys(locale).filter((k) => k.endsWith('_other')))
      t.true(messageKeys(locale).includes(key.replace(/_other$/, '_one')), `${locale} ${key} has its one form`);
  }
});

/** The .ts and .ejs files under `dir`, recursively. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((entry) => {
    if (!entry.isFile() || !/\.(ts|ejs)$/.test(entry.name)) return [];
    return [path.join(entry.parentPath, entry.name)];
  });
}

test('every message key that views and code name literally exists (so in every locale)', (t) => {
  const root = PROJECT_ROOT;
  const keys = messageKeys('es');
  // In a view, any quoted dotted name is a message key; in code, the argument of t(…) and the
  // value of a `…Key:` property (AccountSection's titleKey, say). `'prefix.' + name` names a family.
  const inView = /'([a-z][\w-]*(?:\.[\w-]+)*\.?)'(\s*\+)?/g;
  const inCode = /(?:\bt\(\s*|\b\w+Key:\s*)'([a-z][\w-]*(?:\.[\w-]+)*\.?)'(\s*\+)?/g;
  let checked = 0;
  for (const file of [...sourceFiles(path.join(root, 'views')), ...sourceFiles(path.join(root, 'src'))]) {
    const text = fs.readFileSync(file, 'utf8');
    for (const [, key = '', concatenated] of text.matchAll(file.endsWith('.ejs') ? inView : inCode)) {
      if (!key.includes('.')) continue;
      checked++;
      const family = concatenated !== undefined || key.endsWith('.');
      // A counted message is its plural forms (key_one, key_other: src/i18n/i18n.ts).
      const known = family ? keys.some((k) => k.startsWith(key)) : keys.includes(key) || keys.includes(`${key}_other`);
      t.true(known, `${path.relative(root, file)} names ${family ? 'the family ' : ''}${key}, which no catalog has`);
    }
  }
  t.true(checked > 100, `only ${checked} keys found: the scan no longer matches how keys are written`);
  // The account page's companies, keys built from data, in every locale (parity checks the rest).
  for (const key of ['role.admin', 'role.member', 'status.scheduled', 'status.suspended'])
    t.true(keys.includes(`organizations.account.${key}`), key);
});
