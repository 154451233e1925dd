import test from 'ava';
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
