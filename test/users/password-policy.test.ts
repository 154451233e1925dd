import test from 'ava';
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

test('a password containing the email’s local part (3+ characters) is refused', (t) => {
  t.like(checkPassword('mi-ANA.PEREZ-2024', { email: 'Ana.Perez@example.com' }), {
    ok: false,
    reason: 'contains_email',
  });
  t.like(
    checkPassword('ana.perez rules!', { email: 'ana.perez+portal@example.com' }),
    { ok: false, reason: 'contains_email' },
    'the part before +tag',
  );
  t.deepEqual(
    checkPassword('jo jo jo navidad', { email: 'jo@example.com' }),
    { ok: true },
    'two-letter local parts are ignored',
  );
  t.deepEqual(
    checkPassword('example.com fan club', { email: 'ana@example.com' }),
    { ok: true },
    'the domain alone is not the email',
  );
});
