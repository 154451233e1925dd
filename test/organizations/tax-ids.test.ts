import test from 'ava';
import { translator } from '../../src/i18n/i18n.ts';
import { postalCodeRefusal, taxIdRefusal, taxIdWarning } from '../../src/organizations/company-messages.ts';
import { checkPostalCode } from '../../src/organizations/postal-codes.ts';
import { checkTaxId, formatTaxId, type TaxIdReason } from '../../src/organizations/tax-ids.ts';

/** [country, as typed, compact stored, as the country writes it] */
const VALID: Array<[string, string, string, string]> = [
  // Argentina (AFIP/ARCA): the AFIP's own CUIT, a company's, a person's CUIL, with or without dashes.
  ['AR', '33-69345023-9', '33693450239', '33-69345023-9'],
  ['AR', '30-50001091-2', '30500010912', '30-50001091-2'],
  ['AR', '20267565393', '20267565393', '20-26756539-3'],
  // Brazil (Receita Federal): numeric CNPJs (Banco do Brasil, the Receita's own), and the
  // alphanumeric CNPJ of the Receita's technical note, as typed in capitals, small letters or bare.
  ['BR', '00.000.000/0001-91', '00000000000191', '00.000.000/0001-91'],
  ['BR', '00394460005887', '00394460005887', '00.394.460/0058-87'],
  ['BR', '12.ABC.345/01DE-35', '12ABC34501DE35', '12.ABC.345/01DE-35'],
  ['BR', '12abc34501de35', '12ABC34501DE35', '12.ABC.345/01DE-35'],
  // Chile (SII): the SII's own RUT and CODELCO's, check digit K (either case), one without dots.
  ['CL', '60.803.000-K', '60803000K', '60.803.000-K'],
  ['CL', '61.704.000-k', '61704000K', '61.704.000-K'],
  ['CL', '76086428-5', '760864285', '76.086.428-5'],
  ['CL', '1.234.567-4', '12345674', '1.234.567-4'],
  // Colombia (DIAN): the DIAN's own NIT, with or without its separators.
  ['CO', '800.197.268-4', '8001972684', '800.197.268-4'],
  ['CO', '8600123361', '8600123361', '860.012.336-1'],
  // Ecuador (SRI): the SRI's own (public sector, third digit 6), a company's (9), a person's (cédula + 001).
  ['EC', '1760013210001', '1760013210001', '1760013210001'],
  ['EC', '1790011674-001', '1790011674001', '1790011674001'],
  ['EC', '1713175071001', '1713175071001', '1713175071001'],
  // Peru (SUNAT): the SUNAT's own RUC (20: a company), and a person's (10).
  ['PE', '20131312955', '20131312955', '20131312955'],
  ['PE', '10467793549', '10467793549', '10467793549'],
  // Uruguay (DGI).
  ['UY', '21-100342-001-7', '211003420017', '21-100342-001-7'],
  ['UY', 'UY 21 140634 001 1', '211406340011', '21-140634-001-1'],
  // Mexico (SAT): the SAT's own RFC (a company, 12), and the SAT's example of a person's (13).
  ['MX', 'SAT970701NN3', 'SAT970701NN3', 'SAT970701NN3'],
  ['MX', 'gode-561231-gr8', 'GODE561231GR8', 'GODE561231GR8'],
  ['MX', 'Ñ&T130705MD6', 'Ñ&T130705MD6', 'Ñ&T130705MD6'],
];

const INVALID: Array<[string, string, TaxIdReason]> = [
  ['AR', '33-69345023-8', 'check_digit'],
  ['AR', '20-26756539-2', 'check_digit'],
  ['AR', '2026756539', 'length'],
  ['AR', '99-12345678-6', 'structure'],
  ['AR', '20-2675653A-3', 'characters'],
  ['BR', '00.000.000/0001-92', 'check_digit'],
  ['BR', '12.ABC.345/01DE-36', 'check_digit'],
  ['BR', '12.ABC.345/01DE-53', 'check_digit'],
  ['BR', '12.ABC.345/01DE-AB', 'characters'],
  ['BR', '12.ABC.345/01DE', 'length'],
  ['CL', '60.803.000-1', 'check_digit'],
  ['CL', '76.086.428-4', 'check_digit'],
  ['CL', '76628-5', 'length'],
  ['CO', '800.197.268-5', 'check_digit'],
  ['CO', '21312', 'length'],
  ['EC', '1792060347-001', 'check_digit'],
  ['EC', '1792060346-00', 'length'],
  ['EC', '1790011674000', 'structure'],
  ['PE', '20131312954', 'check_digit'],
  ['PE', '205123337', 'length'],
  ['PE', '30131312955', 'structure'],
  ['UY', '211003420018', 'check_digit'],
  ['UY', '21100342001', 'length'],
  ['MX', 'GODE561231', 'length'],
  ['MX', 'GODE561331GR8', 'structure'],
  ['MX', 'SAT9707O1NN3', 'structure'],
];

test('valid tax ids of every checked country: stored compact, shown as the country writes them', (t) => {
  for (const [country, typed, compact, written] of VALID) {
    const check = checkTaxId(country, typed);
    t.deepEqual(check, { valid: true, taxId: compact, checked: true }, `${country} ${typed}`);
    t.is(formatTaxId(country, compact), written, `${country} ${compact}`);
  }
});

test('invalid tax ids are refused with the reason', (t) => {
  for (const [country, typed, reason] of INVALID) {
    t.deepEqual(checkTaxId(country, typed), { valid: false, reason }, `${country} ${typed}`);
  }
  t.deepEqual(checkTaxId('AR', '   '), { valid: false, reason: 'empty' });
  t.deepEqual(checkTaxId('BR', '1'.repeat(41)), { valid: false, reason: 'length' });
});

/**
 * The Receita Federal's algorithm for the alphanumeric CNPJ, written here from its technical note
 * to check the library against: each character valued at its ASCII code minus 48 (0-9 stay,
 * A=17 … Z=42), weights 2 to 9 from the right and again, the sum mod 11; a remainder of 0 or 1
 * gives 0, any other r gives 11 - r. The second digit is computed over the first twelve and the first digit.
 */
function cnpjCheckDigits(base12: string): string {
  const digit = (chars: string) => {
    let sum = 0;
    [...chars].reverse().forEach((c, i) => {
      sum += (c.charCodeAt(0) - 48) * ((i % 8) + 2);
    });
    const r = sum % 11;
    return r < 2 ? 0 : 11 - r;
  };
  const first = digit(base12);
  return `${first}${digit(`${base12}${first}`)}`;
}

test('alphanumeric CNPJs: the library agrees with the Receita Federal’s algorithm', (t) => {
  t.is(cnpjCheckDigits('12ABC34501DE'), '35', 'the technical note’s example');
  t.is(cnpjCheckDigits('000000000001'), '91');
  for (const base of ['A1B2C3D40001', 'ZZZZZZZZ0001', '9Y8X7W6V0002', 'AB12CD340100', 'QWERTY123456']) {
    const digits = cnpjCheckDigits(base);
    const good = `${base}${digits}`;
    t.like(checkTaxId('BR', good), { valid: true, taxId: good }, good);
    const bad = `${base}${digits[0]}${(Number(digits[1]) + 1) % 10}`;
    t.deepEqual(checkTaxId('BR', bad), { valid: false, reason: 'check_digit' }, bad);
  }
});

test('a Mexican RFC whose check digit does not match is accepted with a warning', (t) => {
  // The SAT's examples with the last character changed: everything else is well formed.
  t.deepEqual(checkTaxId('MX', 'GODE561231GR9'), {
    valid: true,
    taxId: 'GODE561231GR9',
    checked: true,
    warning: 'check_digit',
  });
  t.like(checkTaxId('MX', 'SAT970701NN4'), { valid: true, warning: 'check_digit' });
  t.false('warning' in checkTaxId('MX', 'SAT970701NN3'));
});

test('other countries: the tax id as typed, trimmed, at most 40 characters, without a check', (t) => {
  t.deepEqual(checkTaxId('US', ' 12-3456789 '), { valid: true, taxId: '12-3456789', checked: false });
  t.deepEqual(checkTaxId('ES', 'B-12345678'), { valid: true, taxId: 'B-12345678', checked: false });
  t.is(formatTaxId('US', '12-3456789'), '12-3456789');
  t.is(formatTaxId(null, 'anything'), 'anything');
  t.deepEqual(checkTaxId('US', 'x'.repeat(41)), { valid: false, reason: 'too_long' });
  t.deepEqual(checkTaxId('US', ' '), { valid: false, reason: 'empty' });
});

test('postal codes follow each country’s format', (t) => {
  const accepted: Array<[string | null, string, string]> = [
    ['AR', 'C1425DKF', 'C1425DKF'],
    ['AR', 'c1425dkf', 'C1425DKF'],
    ['AR', '1425', '1425'],
    ['BR', '01310-100', '01310-100'],
    ['BR', '01310100', '01310-100'],
    ['CL', '8320000', '8320000'],
    ['CO', '110111', '110111'],
    ['EC', '170150', '170150'],
    ['MX', '06600', '06600'],
    ['PE', '15001', '15001'],
    ['UY', '11000', '11000'],
    ['GB', 'sw1a  1aa', 'SW1A 1AA'],
    ['US', '94105-1234', '94105-1234'],
    [null, '1000', '1000'],
  ];
  for (const [country, typed, stored] of accepted) {
    t.deepEqual(checkPostalCode(country, typed), { valid: true, postalCode: stored }, `${country} ${typed}`);
  }
  const refused: Array<[string | null, string]> = [
    ['AR', 'I1425DKF'],
    ['AR', '14250'],
    ['AR', 'C1425DK'],
    ['BR', '0131-0100'],
    ['BR', '0131010'],
    ['CL', '832000'],
    ['CO', '11011'],
    ['EC', '1701500'],
    ['MX', '6600'],
    ['PE', '1500A'],
    ['UY', '110000'],
    ['US', '<b>1</b>'],
    ['US', '1234567890123'],
  ];
  for (const [country, typed] of refused) {
    t.deepEqual(checkPostalCode(country, typed), { valid: false, reason: 'format' }, `${country} ${typed}`);
  }
  t.deepEqual(checkPostalCode('AR', '  '), { valid: false, reason: 'empty' });
});

test('refusals and warnings say why, in Spanish, Portuguese and English', (t) => {
  const [es, pt, en] = [translator('es'), translator('pt-BR'), translator('en')];
  t.is(taxIdRefusal(es, 'AR', 'check_digit'), 'El CUIT no es válido: el dígito verificador no coincide');
  t.is(taxIdRefusal(pt, 'AR', 'check_digit'), 'O CUIT não é válido: o dígito verificador não confere');
  t.is(taxIdRefusal(en, 'AR', 'check_digit'), 'The CUIT is not valid: the check digit does not match');
  t.is(taxIdRefusal(es, 'BR', 'length'), 'El CNPJ no es válido: debe tener 14 caracteres');
  t.is(taxIdRefusal(pt, 'MX', 'length'), 'O RFC não é válido: deve ter 12 caracteres (empresa) ou 13 (pessoa)');
  t.is(taxIdRefusal(en, 'CL', 'structure'), 'The RUT is not valid: its format is not that of a real one');
  t.is(taxIdRefusal(es, 'US', 'too_long'), 'El identificador fiscal no es válido: tiene más de 40 caracteres');
  t.regex(taxIdWarning(es, 'MX', 'check_digit'), /^El dígito verificador del RFC no coincide\. Lo aceptamos/);
  t.regex(taxIdWarning(pt, 'MX', 'check_digit'), /^O dígito verificador do RFC não confere/);
  t.regex(taxIdWarning(en, 'MX', 'check_digit'), /^The RFC's check digit does not match/);
  t.is(
    postalCodeRefusal(es, 'AR', 'format'),
    'El código postal no es válido: en Argentina es el CPA (como C1425DKF) o 4 dígitos',
  );
  t.is(postalCodeRefusal(pt, 'BR', 'format'), 'O código postal não é válido: o CEP tem 8 dígitos (como 01310-100)');
  t.is(
    postalCodeRefusal(en, 'FR', 'format'),
    'The postal code is not valid: use letters, digits, spaces or hyphens, up to 12 characters',
  );
  // Every reason of every checked country has its words.
  for (const [country, typed, reason] of INVALID) {
    for (const tr of [es, pt, en]) t.notRegex(taxIdRefusal(tr, country, reason), /undefined|\{/, typed);
  }
});
