import test from 'ava';
import { HttpBrowser } from '../support/http-browser.ts';
import { STORES, type StoreKind } from '../support/stores.ts';
import {
  codeOf,
  linkOf,
  openSignUp,
  REDIRECT,
  type SignUpWorld,
  signUpFields,
  signUpWorlds,
} from './signup-fixture.ts';

const startSignUpWorld = signUpWorlds(test);
/**
 * One world for the file, with sign-ups limited to 3 an hour per address and no phone asked
 * (SIGNUP_PHONE=off): the limits below hold whatever the phone setting.
 */
const LIMITS_ENV = { SIGNUPS_PER_IP_PER_HOUR: '3', SIGNUP_PHONE: 'off' };
const signUpWorld = (kind: StoreKind) => startSignUpWorld(kind, LIMITS_ENV);

/** Moves every verification of the test back in time, as if `seconds` had passed. */
async function age(
  world: SignUpWorld,
  seconds: number,
  column: 'created_at' | 'code_expires_at' | 'expires_at' = 'created_at',
) {
  const rows = await world.server.umbral.storage.db.selectFrom('account_tokens').select(['id', column]).execute();
  for (const row of rows) {
    const value = (row as Record<string, unknown>)[column] as Date | null;
    if (!value) continue;
    await world.server.umbral.storage.db
      .updateTable('account_tokens')
      .set({ [column]: new Date(value.getTime() - seconds * 1000) })
      .where('id', '=', row.id)
      .execute();
  }
}

async function signedUp(world: SignUpWorld) {
  const browser = new HttpBrowser();
  const { page, request } = await openSignUp(world, browser);
  const verify = await browser.submit(page, '/signup', signUpFields(), REDIRECT);
  const [mail] = await world.mailTo('ana@example.com');
  return { browser, verify, request, mail: mail! };
}

function otherCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

for (const kind of STORES) {
  test.serial(`[${kind}] five wrong codes kill the code; a new one must be asked for`, async (t) => {
    const world = await signUpWorld(kind);
    const { browser, verify, mail } = await signedUp(world);
    const code = codeOf(mail);

    const malformed = await browser.submit(verify, '/verify', { code: '12ab' });
    t.is(malformed.status, 400);
    t.regex(malformed.body, /Escribe los 6 dígitos/);
    for (let attempt = 1; attempt <= 4; attempt++) {
      const wrong = await browser.submit(verify, '/verify', { code: otherCode(code) });
      t.is(wrong.status, 400);
      t.regex(wrong.body, /El código no es correcto/, `attempt ${attempt}`);
    }
    const fifth = await browser.submit(verify, '/verify', { code: otherCode(code) });
    t.regex(fifth.body, /Demasiados intentos/);
    const right = await browser.submit(verify, '/verify', { code });
    t.regex(right.body, /Demasiados intentos/, 'even the right code is refused now');
    t.false((await world.server.users.findByEmail('ana@example.com'))!.email_verified);

    await age(world, 61);
    const resent = await browser.submit(verify, '/verify/resend', {}, REDIRECT);
    t.regex(resent.body, /Te enviamos un código nuevo/);
    const [, second] = await world.mailTo('ana@example.com', 2);
    const stale = await browser.submit(resent, '/verify', { code });
    t.regex(stale.body, /no es correcto|ya no es válido/, 'the old code stays dead');
    const callback = await browser.submit(resent, '/verify', { code: codeOf(second!) }, REDIRECT);
    t.true(callback.url.startsWith(REDIRECT));
  });

  test.serial(`[${kind}] an expired code and an expired link are refused`, async (t) => {
    const world = await signUpWorld(kind);
    const { browser, verify, mail } = await signedUp(world);
    await age(world, 15 * 60 + 1, 'code_expires_at');
    const late = await browser.submit(verify, '/verify', { code: codeOf(mail) });
    t.is(late.status, 400);
    t.regex(late.body, /El código venció/);

    // The token goes in a form field no more: posted there, even live and with a CSRF token, it verifies nothing.
    const token = new URL(linkOf(mail)).searchParams.get('token')!;
    const posted = await new HttpBrowser().request(`${world.server.issuer}/verify-email`, { form: { token } });
    t.is(posted.status, 403, 'without the page’s CSRF token');
    const withCsrf = new HttpBrowser();
    const forgot = await withCsrf.open(`${world.server.issuer}/password/forgot`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(forgot.body)![1]!;
    const fieldOnly = await withCsrf.request(`${world.server.issuer}/verify-email`, { form: { token, _csrf: csrf } });
    t.is(fieldOnly.status, 400);
    t.regex(fieldOnly.body, /El enlace no es válido/);
    t.false((await world.server.users.findByEmail('ana@example.com'))!.email_verified);

    // A confirmation page left open a day.
    const leftOpen = new HttpBrowser();
    const confirm = await leftOpen.open(linkOf(mail));
    t.is(confirm.status, 200);
    await age(world, 24 * 60 * 60 + 1, 'expires_at');
    const link = await new HttpBrowser().open(linkOf(mail));
    t.is(link.status, 400);
    t.regex(link.body, /El enlace no es válido/);
    t.notRegex(link.body, /action="\/verify-email"/, 'nothing to confirm');
    t.false(link.url.includes(token), 'the invalid-link page is not at the token’s URL');
    const refused = await leftOpen.submit(confirm, '/verify-email', {});
    t.is(refused.status, 400);
    t.regex(refused.body, /El enlace no es válido/);
    t.false((await world.server.users.findByEmail('ana@example.com'))!.email_verified);
  });

  test.serial(`[${kind}] resend: a new code replaces the old, at most one a minute and five an hour`, async (t) => {
    const world = await signUpWorld(kind);
    const { browser, verify, mail } = await signedUp(world);

    const tooSoon = await browser.submit(verify, '/verify/resend', {});
    t.is(tooSoon.status, 429);
    t.regex(
      tooSoon.body,
      /<p id="resend-error" class="error" role="alert">Espera \d+ segundos? antes de pedir otro código/,
    );
    t.regex(
      tooSoon.body,
      /aria-describedby="resend-error">Enviar un código nuevo<\/button>/,
      'next to the resend button',
    );
    t.notRegex(tooSoon.body, /id="code"[^>]*aria-invalid/, 'the code field is not blamed');
    t.truthy(tooSoon.headers.get('retry-after'));

    let page = verify;
    for (let send = 2; send <= 5; send++) {
      await age(world, 61);
      page = await browser.submit(page, '/verify/resend', {}, REDIRECT);
      t.regex(page.body, /Te enviamos un código nuevo/, `send ${send}`);
      await world.mailTo('ana@example.com', send);
    }
    await age(world, 61);
    const sixth = await browser.submit(page, '/verify/resend', {});
    t.is(sixth.status, 429, 'five emails an hour at most');
    const waitSeconds = Number(/Espera (\d+) segundos?/.exec(sixth.body)![1]);
    t.true(waitSeconds > 60 && waitSeconds <= 3600, `waits for the hour to roll: ${waitSeconds} s`);

    const mails = await world.mailTo('ana@example.com', 5);
    t.is(mails.length, 5);
    const first = await browser.submit(page, '/verify', { code: codeOf(mail) });
    t.regex(first.body, /no es correcto|ya no es válido/, 'the first code was replaced');
    const oldLink = await new HttpBrowser().open(linkOf(mail));
    t.is(oldLink.status, 400, 'and so was its link');
    const callback = await browser.submit(page, '/verify', { code: codeOf(mails[4]!) }, REDIRECT);
    t.true(callback.url.startsWith(REDIRECT));
  });
}

for (const kind of STORES) {
  test.serial(
    `[${kind}] one address may create SIGNUPS_PER_IP_PER_HOUR accounts an hour (here 3); the next is refused and creates nothing`,
    async (t) => {
      // SIGNUP_PHONE=off in this file's world: no phone field, and the accounts have none.
      const world = await signUpWorld(kind);
      for (let n = 1; n <= 3; n++) {
        const browser = new HttpBrowser();
        const { page } = await openSignUp(world, browser);
        t.false(page.body.includes('name="phone"'), 'SIGNUP_PHONE=off asks for no phone');
        const verify = await browser.submit(
          page,
          '/signup',
          signUpFields({ email: `persona${n}@example.com` }),
          REDIRECT,
        );
        t.regex(verify.body, /Revisa tu correo/, `sign-up ${n}`);
      }
      const browser = new HttpBrowser();
      const { page } = await openSignUp(world, browser);
      const before = browser.history.length;
      const refused = await browser.submit(
        page,
        '/signup',
        signUpFields({ email: 'una.mas@example.com', name: 'Una Más' }),
        REDIRECT,
      );
      t.is(browser.history[before]!.status, 429);
      t.truthy(browser.history[before]!.headers.get('retry-after'));
      t.regex(refused.body, /Se crearon demasiadas cuentas desde esta red/);
      t.regex(refused.body, /value="Una Más"/, 'the values are kept');
      t.is(await world.server.users.findByEmail('una.mas@example.com'), undefined);
      t.is(
        (await world.server.users.findByEmail('persona1@example.com'))!.phone,
        null,
        'a phone sent anyway is not kept',
      );
    },
  );
}
