import test from 'ava';
import { LOCALES, translator } from '../../src/i18n/i18n.ts';
import { checkPassword, MAX_PASSWORD_LENGTH } from '../../src/users/password-policy.ts';

test('at least 8 characters, counted as people count them; an operator may raise the floor, never lower it', (t) => {
  t.like(checkPassword('siete77'), { ok: false, reason: 'too_short', vars: { min: 8 } });
  t.deepEqual(checkPassword('ocho8ocho'), { ok: true });
  t.is('ñandú🦙a'.length, 8);
  t.like(checkPassword('ñandú🦙a'), { ok: false, reason: 'too_short' }, '8 UTF-16 units, but 7 characters');
  t.deepEqual(checkPassword('ñandú🦙ab'), { ok: true });
  t.like(checkPassword('ocho8ocho', { minLength: 12 }), { ok: false, reason: 'too_short', vars: { min: 12 } });
  t.deepEqual(checkPassword('ocho8ocho', { minLength: 4 }), { ok: true });
  t.like(checkPassword('siete77', { minLength: 4 }), { ok: false, reason: 'too_short', vars: { min: 8 } });
});

test('up to 256 characters, no composition rules', (t) => {
  t.deepEqual(checkPassword('a'.repeat(20) + ' '.repeat(10) + 'z'.repeat(34)), { ok: true }, '64 accepted');
  t.deepEqual(checkPassword('frase sin mayúsculas ni números'), { ok: true });
  t.deepEqual(checkPassword('q'.repeat(40) + 'w'.repeat(MAX_PASSWORD_LENGTH - 40)), { ok: true });
  t.like(checkPassword('q'.repeat(40) + 'w'.repeat(MAX_PASSWORD_LENGTH - 39)), {
    ok: false,
    reason: 'too_long',
    vars: { max: 256 },
  });
});

test('common passwords are refused, whatever their case', (t) => {
  for (const common of ['password', 'PASSWORD', 'Password1', '12345678', 'qwertyuiop', 'iloveyou']) {
    t.like(checkPassword(common), { ok: false, reason: 'common', messageKey: 'password.error.common' }, common);
  }
});

test('common passwords dressed up with case, look-alikes and digits or symbols around them are refused', (t) => {
  for (const variant of [
    'password1234567',
    'qwerty2026!',
    'P@ssw0rd2026!',
    'Qw3rty!!2026',
    '$uperman123',
    'iloveyou.2026',
    '!!Monkey2026!!',
    'DRAG0N-1984',
    'Contraseña2026',
    'pass word 2026',
  ]) {
    t.like(
      checkPassword(variant),
      { ok: false, reason: 'common_variant', messageKey: 'password.error.common_variant' },
      variant,
    );
  }
});

test('the product’s name and the portal’s name are refused as a password’s base', (t) => {
  const names = { productName: 'Umbral', portalName: 'Portal de Beneficios' };
  for (const product of ['Umbral2026', 'UMBRAL!2026', 'umbr4l-2026', '2026umbral!']) {
    t.like(checkPassword(product, names), { ok: false, reason: 'product_name', vars: { product: 'Umbral' } }, product);
  }
  for (const portal of ['PortalDeBeneficios1', 'portal de beneficios 2026', 'P0rtal.de.Benefici0s!']) {
    t.like(
      checkPassword(portal, names),
      { ok: false, reason: 'portal_name', vars: { portal: 'Portal de Beneficios' } },
      portal,
    );
  }
  t.deepEqual(checkPassword('Umbral2026'), { ok: true }, 'only refused when the product is called so');
  t.deepEqual(checkPassword('Umbral2026', { productName: 'Acme ID' }), { ok: true });
  t.like(checkPassword('AcmeID-2026', { productName: 'Acme ID' }), { ok: false, reason: 'product_name' });
  t.deepEqual(
    checkPassword('mi umbral favorito es el de casa', names),
    { ok: true },
    'a passphrase holding the name is not the name',
  );
});

test('each reason has its message in every language, with the names filled in', (t) => {
  const refusals = [
    checkPassword('qwerty2026!'),
    checkPassword('Umbral2026', { productName: 'Umbral' }),
    checkPassword('Beneficios2026', { portalName: 'Beneficios' }),
  ];
  for (const locale of LOCALES) {
    const t9n = translator(locale);
    const [variant, product, portal] = refusals.map((r) => (r.ok ? '' : t9n(r.messageKey, r.vars)));
    t.false(variant!.startsWith('password.error'), locale);
    t.regex(product!, /Umbral/, locale);
    t.regex(portal!, /Beneficios/, locale);
  }
});

test('long passphrases are accepted, even with common words, numbers or the product’s name inside', (t) => {
  const names = { productName: 'Umbral', portalName: 'Portal de Beneficios', email: 'ana@example.com' };
  for (const passphrase of [
    'luna nueva sobre el mar',
    'correct horse battery staple',
    'mi password no es password',
    'tengo 3 gatos y 2 perros',
    'el umbral de la casa azul 2026',
    'frase sin mayúsculas ni números',
    'mañana temprano',
  ]) {
    t.deepEqual(checkPassword(passphrase, names), { ok: true }, passphrase);
  }
});

test('the email, its local part, or a local part of 4+ characters as a word is refused', (t) => {
  t.like(checkPassword('mi-ANA.PEREZ-2024', { email: 'Ana.Perez@example.com' }), {
    ok: false,
    reason: 'contains_email',
  });
  t.like(
    checkPassword('ana.perez2026', { email: 'ana.perez@example.com' }),
    { ok: false, reason: 'contains_email' },
    'digits after the local part do not make it another word',
  );
  t.like(
    checkPassword('ana.perez rules!', { email: 'ana.perez+portal@example.com' }),
    { ok: false, reason: 'contains_email' },
    'the part before +tag',
  );
  t.like(checkPassword('Ana@Example.com', { email: 'ana@example.com' }), { ok: false, reason: 'contains_email' });
  t.like(checkPassword('ana@example.com-2024', { email: 'ana@example.com' }), { ok: false, reason: 'contains_email' });
  t.like(
    checkPassword('beatriz.', { email: 'beatriz@example.com' }),
    { ok: false, reason: 'contains_email' },
    'the local part itself',
  );
  t.like(
    checkPassword('ana2026!!', { email: 'ana@example.com' }),
    { ok: false, reason: 'contains_email' },
    'a short local part as the base',
  );
  t.like(checkPassword('soy JOSÉ de día', { email: 'josé@example.com' }), { ok: false, reason: 'contains_email' });
  t.deepEqual(
    checkPassword('mañana temprano', { email: 'ana@example.com' }),
    { ok: true },
    'a short local part inside another word is not the email',
  );
  t.deepEqual(
    checkPassword('una mariana tranquila', { email: 'ariana@example.com' }),
    { ok: true },
    'a local part of 4+ characters inside a longer word (mariana ⊃ ariana) is not a word of it',
  );
  t.deepEqual(
    checkPassword('jo jo jo navidad', { email: 'jo@example.com' }),
    { ok: true },
    'two-letter local parts count only as the whole password',
  );
  t.deepEqual(
    checkPassword('example.com fan club', { email: 'ana@example.com' }),
    { ok: true },
    'the domain alone is not the email',
  );
});
