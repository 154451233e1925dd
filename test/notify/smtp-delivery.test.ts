import test from 'ava';
import { createTestStore, STORES } from '../support/stores.ts';
import { ISSUER, openMailer } from './mailer-fixture.ts';
import { startSmtpServer } from './smtp-test-server.ts';

// Serial: the test SMTP server shares this process; concurrent PGlite start-ups would stall it.
for (const kind of STORES) {
  test.serial(`delivers over authenticated SMTP, localized, with text and HTML parts (${kind})`, async (t) => {
    const smtp = await startSmtpServer();
    t.teardown(() => smtp.close());
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const fixture = await openMailer(store, { SMTP_URL: smtp.url, MAIL_FROM: 'Acme ID <cuentas@example.com>' });
    t.teardown(() => fixture.close());

    await fixture.mailer.enqueue({ to: 'ana@example.com', template: 'smtp-check', locale: 'es', data: {} });
    await fixture.mailer.enqueue({ to: 'bob@example.com', template: 'smtp-check', locale: 'en', data: {} });
    await fixture.mailer.drain();

    t.is(smtp.received.length, 2);
    const byRecipient = new Map(
      smtp.received.map((mail) => [mail.to && !Array.isArray(mail.to) ? mail.to.text : '', mail]),
    );
    const spanish = byRecipient.get('ana@example.com')!;
    const english = byRecipient.get('bob@example.com')!;
    t.truthy(spanish, 'message to ana@example.com');
    t.truthy(english, 'message to bob@example.com');

    t.is(spanish.from?.text, '"Acme ID" <cuentas@example.com>');
    t.is(spanish.subject, 'Acme ID: correo de prueba');
    t.is(english.subject, 'Acme ID: test email');
    t.regex(spanish.text ?? '', /Si puedes leer esto, Acme ID puede enviar correos\./);
    t.regex(english.text ?? '', /If you can read this, Acme ID can send email\./);
    t.notRegex(spanish.text ?? '', /<[a-z]/i, 'the text part is not HTML');
    t.regex(spanish.text ?? '', new RegExp(`^${ISSUER}/$`, 'm'), 'links stand alone on their line');
    const html = String(spanish.html);
    t.regex(html, /<html lang="es">/);
    t.true(html.includes(`src="${ISSUER}/assets/logo.svg"`), 'logo URL absolute from ISSUER');
    t.true(html.includes(`href="${ISSUER}/"`));
    t.regex(String(english.html), /Email works/);
    t.is(spanish.headers.get('auto-submitted'), 'auto-generated');

    const rows = await fixture.rows();
    t.deepEqual(
      rows.map((r) => [r.status, r.attempts]),
      [
        ['sent', 1],
        ['sent', 1],
      ],
    );
    // Over SMTP nothing of the message stays behind.
    t.true(
      rows.every(
        (r) => r.subject === null && r.text_body === null && r.html_body === null && Object.keys(r.data).length === 0,
      ),
    );
    t.true(rows.every((r) => r.sent_at instanceof Date));
  });

  test.serial(`enqueue stores the message and returns without waiting for SMTP (${kind})`, async (t) => {
    let answer!: () => void;
    const smtp = await startSmtpServer({ answerDataWhen: new Promise<void>((resolve) => (answer = resolve)) });
    t.teardown(() => smtp.close());
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const fixture = await openMailer(store, { SMTP_URL: smtp.url });
    t.teardown(() => fixture.close());

    await fixture.mailer.enqueue({ to: 'ana@example.com', template: 'smtp-check', locale: 'pt-BR', data: {} });
    const [row] = await fixture.rows();
    t.true(row?.status === 'pending' || row?.status === 'sending', `status right after enqueue: ${row?.status}`);
    t.is(smtp.received.length, 0, 'the SMTP server has not accepted it yet');

    answer();
    await fixture.mailer.drain();
    t.is(smtp.received.length, 1);
    t.is(smtp.received[0]!.subject, 'Acme ID: e-mail de teste');
    t.is((await fixture.rows())[0]!.status, 'sent');
  });
}
