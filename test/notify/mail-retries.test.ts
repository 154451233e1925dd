import test from 'ava';
import { createTestStore, STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';
import { openMailer } from './mailer-fixture.ts';
import { startSmtpServer } from './smtp-test-server.ts';

// Serial: a test SMTP server shares this process, and PGlite start-ups in concurrent tests stall its event loop past greeting timeouts.
const QUICK_RETRIES = { retryDelaysMs: [20, 20] }; // three attempts in all, a few ms apart

for (const kind of STORES) {
  test.serial(`a temporary SMTP failure is retried, then delivered on the second attempt (${kind})`, async (t) => {
    const smtp = await startSmtpServer({
      dataReply: (n) => (n === 1 ? { code: 451, message: 'Try again later' } : undefined),
    });
    t.teardown(() => smtp.close());
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const fixture = await openMailer(store, { SMTP_URL: smtp.url }, QUICK_RETRIES);
    t.teardown(() => fixture.close());

    await fixture.mailer.enqueue({ to: 'ana@example.com', template: 'smtp-check', locale: 'es', data: {} });
    await fixture.mailer.drain();

    const [row] = await fixture.rows();
    const history = JSON.stringify(fixture.logs.map((line) => [line['msg'], line['error']]));
    t.is(smtp.dataAttempts, 2, history);
    t.is(smtp.received.length, 1);
    t.is(row?.status, 'sent');
    t.is(row?.attempts, 2, history);
    const warning = fixture.logs.find((line) => line['msg'] === 'email delivery failed; will retry');
    t.truthy(warning);
    t.regex(String(warning?.['error']), /451/);
    t.is(warning?.['level'], 40);
    t.false(JSON.stringify(fixture.logs).includes('Si puedes leer'), 'no message body in the logs');
  });

  test.serial(`a permanent rejection fails at once and shows on /dev/outbox with its error (${kind})`, async (t) => {
    const smtp = await startSmtpServer({ rejectRecipient: 'nobody@example.com' });
    t.teardown(() => smtp.close());
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const fixture = await openMailer(store, { SMTP_URL: smtp.url }, QUICK_RETRIES);
    t.teardown(() => fixture.close());
    await fixture.mailer.enqueue({ to: 'nobody@example.com', template: 'smtp-check', locale: 'en', data: {} });
    await fixture.mailer.drain();
    const [row] = await fixture.rows();
    await fixture.close();

    t.is(row?.status, 'failed');
    t.is(row?.attempts, 1, '5xx about the message is not retried');
    t.regex(row?.last_error ?? '', /550/);
    t.deepEqual(row?.data, {}, 'template values are dropped once given up');
    t.truthy(fixture.logs.find((line) => line['msg'] === 'email delivery failed; giving up'));

    // The same store, served in development: the failure is visible to whoever runs it.
    const server = await startUmbral(store);
    t.teardown(() => server.stop());
    const page = await fetch(`${server.issuer}/dev/outbox`, { headers: { 'accept-language': 'en' } });
    t.is(page.status, 200);
    const body = await page.text();
    t.regex(body, /nobody@example\.com/);
    t.regex(body, /Status: failed/);
    t.regex(body, /Last error: .*550 No such mailbox here/);
  });

  test.serial(`temporary failures end as failed once the retries run out (${kind})`, async (t) => {
    const smtp = await startSmtpServer({ dataReply: () => ({ code: 452, message: 'Mailbox full' }) });
    t.teardown(() => smtp.close());
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const fixture = await openMailer(store, { SMTP_URL: smtp.url }, QUICK_RETRIES);
    t.teardown(() => fixture.close());

    await fixture.mailer.enqueue({ to: 'ana@example.com', template: 'smtp-check', locale: 'es', data: {} });
    await fixture.mailer.drain();

    const [row] = await fixture.rows();
    t.is(smtp.dataAttempts, 3, JSON.stringify(fixture.logs.map((line) => [line['msg'], line['error']])));
    t.is(row?.status, 'failed');
    t.is(row?.attempts, 3);
    t.regex(row?.last_error ?? '', /452 Mailbox full/);
  });

  test.serial(
    `wrong SMTP credentials are retried (the operator can fix them), and the error names them (${kind})`,
    async (t) => {
      const smtp = await startSmtpServer();
      t.teardown(() => smtp.close());
      const store = await createTestStore(kind);
      t.teardown(() => store.cleanup());
      const badUrl = smtp.url.replace(/:[^:@/]+@/, ':wrong@');
      const fixture = await openMailer(store, { SMTP_URL: badUrl }, { retryDelaysMs: [20] });
      t.teardown(() => fixture.close());

      await fixture.mailer.enqueue({ to: 'ana@example.com', template: 'smtp-check', locale: 'es', data: {} });
      await fixture.mailer.drain();

      const [row] = await fixture.rows();
      t.is(row?.status, 'failed');
      t.is(row?.attempts, 2);
      t.regex(row?.last_error ?? '', /EAUTH/);
      t.false(JSON.stringify(fixture.logs).includes('wrong'), 'the password is not logged');
    },
  );
}
