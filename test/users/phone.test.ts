import test from 'ava';
import { countryOptions, defaultCountry, parsePhone } from '../../src/users/phone.ts';

test('numbers are stored in E.164, from a national number and country or a whole +number', (t) => {
  t.deepEqual(parsePhone('55 1234 5678', 'MX'), { ok: true, e164: '+525512345678' });
  t.deepEqual(parsePhone('(11) 91234-5678', 'BR'), { ok: true, e164: '+5511912345678' });
  t.deepEqual(
    parsePhone('+1 201 555 0123', 'MX'),
    { ok: true, e164: '+12015550123' },
    'a + number wins over the select',
  );
  t.deepEqual(parsePhone('0054 9 11 2345 6789', 'MX'), { ok: true, e164: '+5491123456789' }, '00 prefix');
  t.deepEqual(parsePhone('12', 'MX'), { ok: false });
  t.deepEqual(parsePhone('', 'MX'), { ok: false });
  t.deepEqual(parsePhone('55 1234 5678', 'XX'), { ok: false });
  t.deepEqual(parsePhone('llámame', 'MX'), { ok: false });
});

test('the preselected country follows the browser region, else the locale', (t) => {
  t.is(defaultCountry('es'), 'MX');
  t.is(defaultCountry('pt-BR'), 'BR');
  t.is(defaultCountry('en'), 'US');
  t.is(defaultCountry('es', ['es-AR', 'es;q=0.9']), 'AR');
  t.is(defaultCountry('es', ['es-419']), 'MX', 'a region that is not a country');
});

test('countries are named in the page language, with their calling code', (t) => {
  t.true(countryOptions('es').some((c) => c.code === 'MX' && c.label === 'México (+52)'));
  t.true(countryOptions('pt-BR').some((c) => c.code === 'DE' && c.label === 'Alemanha (+49)'));
  t.true(countryOptions('en').some((c) => c.code === 'BR' && c.label === 'Brazil (+55)'));
  t.true(countryOptions('es').length > 200);
});
