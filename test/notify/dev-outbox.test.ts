import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { viewsPath } from '../../src/config/project-root.ts';
import type { QueuedMailer } from '../../src/notify/create-mailer.ts';
import { createTestStore, JOURNEY_STORES } from '../support/stores.ts';
import { startUmbral } from '../support/umbral-server.ts';
import { openMailer } from './mailer-fixture.ts';
import { startSmtpServer } from './smtp-test-server.ts';

/** The dev outbox exists only on a loopback ISSUER. */
const ISSUER = 'http://localhost:3000';
const SECRET_LINK = `${ISSUER}/verify?token=SeCrEt-T0KEN`;
const OUTBOX_ROUTES = ['/dev/outbox', '/dev/outbox.css', '/dev/outbox/anything', '/dev/outbox/anything/html'];

/** A template whose text carries a secret link, as verification and reset emails do. */
function templatesWithSecretLink(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbral-emails-'));
  fs.cpSync(viewsPath('emails', 'partials'), path.join(dir, 'partials'), {
    recursive: true,
  });
  fs.writeFileSync(
    path.join(dir, 'smtp-check.html.ejs'),
    `<%- include('partials/layout-top', { title: 'x' }) %><%- include('partials/button', { href: link, label: 'Go' }) %><%- include('partials/layout-bottom') %>`,
  );
  fs.writeFileSync(
    path.join(dir, 'smtp-check.txt.ejs'),
    `Hola <%- name %>, open:\n<%- link %>.\n<%- include('partials/text-footer') %>`,
  );
  return dir;
}

for (const kind of JOURNEY_STORES) {
  test(`without SMTP_URL mail goes to the dev outbox, logged by its outbox URL and never by its links (${kind})`, async (t) => {
    const viewsDir = templatesWithSecretLink();
    t.teardown(() => fs.rmSync(viewsDir, { recursive: true, force: true }));
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const fixture = await openMailer(store, { ISSUER }, { viewsDir });
    t.teardown(() => fixture.close());

    await fixture.mailer.enqueue({
      to: 'ana@example.com',
      template: 'smtp-check',
      locale: 'es',
      data: { name: 'Ana <3', link: SECRET_LINK },
    });
    await fixture.mailer.drain();

    const [row] = await fixture.rows();
    t.is(row?.status, 'sent');
    t.is(row?.subject, 'Acme ID: correo de prueba');
    t.is(
      row?.text_body,
      `Hola Ana <3, open:\n${SECRET_LINK}.\n\n--\nEste es un mensaje automático de Acme ID; las respuestas no se leen.\n`,
    );
    t.true(row?.html_body?.includes(`href="${SECRET_LINK}"`));
    const kept = fixture.logs.find((line) => line['msg'] === 'email kept in the dev outbox (no SMTP_URL)');
    t.is(kept?.['outbox'], `${ISSUER}/dev/outbox/${row?.id}`);
    t.is(kept?.['level'], 30);
    t.false(JSON.stringify(fixture.logs).includes('SeCrEt'), 'no link in the logs');
    t.truthy(
      fixture.logs.find((line) => line['outbox'] === `${ISSUER}/dev/outbox`),
      'start-up says where the outbox is',
    );
  });

  test(`/dev/outbox lists messages; a message shows its text with clickable links and a sandboxed HTML view (${kind})`, async (t) => {
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const server = await startUmbral(store);
    t.teardown(() => server.stop());
    // The app's own mailer (outbox transport, since SMTP_URL is unset).
    const mailer = server.umbral.mailer as QueuedMailer;
    await mailer.enqueue({ to: 'ana@example.com', template: 'smtp-check', locale: 'en', data: {} });
    await mailer.enqueue({ to: 'bea@example.com', template: 'smtp-check', locale: 'es', data: {} });
    await mailer.drain();

    const list = await fetch(`${server.issuer}/dev/outbox`, { headers: { 'accept-language': 'es' } });
    t.is(list.status, 200);
    t.regex(list.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const listHtml = await list.text();
    t.regex(listHtml, /Bandeja de salida \(desarrollo\)/);
    t.regex(listHtml, /ana@example\.com/);
    t.regex(listHtml, /bea@example\.com/);
    t.regex(listHtml, /Umbral: test email/);
    t.regex(listHtml, /Estado: enviado/);
    const id = /href="\/dev\/outbox\/([0-9a-f-]{36})">Umbral: test email/.exec(listHtml)?.[1];
    t.truthy(id);

    const css = await fetch(`${server.issuer}/dev/outbox.css`);
    t.is(css.status, 200);
    t.regex(css.headers.get('content-type') ?? '', /text\/css/);

    const message = await fetch(`${server.issuer}/dev/outbox/${id}`, { headers: { 'accept-language': 'pt-BR' } });
    t.is(message.status, 200);
    const messageHtml = await message.text();
    t.regex(messageHtml, /Versão em texto/);
    t.regex(messageHtml, /If you can read this, Umbral can send email\./);
    t.true(
      messageHtml.includes(`<a href="${server.issuer}/">${server.issuer}/</a>`),
      'links in the text are clickable',
    );
    t.true(messageHtml.includes(`href="/dev/outbox/${id}/html"`));

    const html = await fetch(`${server.issuer}/dev/outbox/${id}/html`);
    t.is(html.status, 200);
    const csp = html.headers.get('content-security-policy') ?? '';
    t.regex(csp, /(^|; )sandbox\b/);
    t.regex(csp, /default-src 'none'/);
    t.notRegex(csp, /script-src/);
    const body = await html.text();
    t.true(body.includes(`src="${server.issuer}/assets/logo.svg"`));

    t.is((await fetch(`${server.issuer}/dev/outbox/00000000-0000-0000-0000-000000000000`)).status, 404);
  });

  test(`in production (SMTP_URL set) /dev/outbox does not exist (${kind})`, async (t) => {
    const store = await createTestStore(kind);
    t.teardown(() => store.cleanup());
    const server = await startUmbral(store, {
      NODE_ENV: 'production',
      SMTP_URL: 'smtp://user:pass@127.0.0.1:9',
      SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    t.teardown(() => server.stop());
    t.true(server.config.production);
    for (const route of OUTBOX_ROUTES) {
      t.is((await fetch(`${server.issuer}${route}`)).status, 404, route);
    }
  });

  test(`outside production the outbox is served only on a loopback ISSUER without SMTP_URL (${kind})`, async (t) => {
    const smtp = await startSmtpServer();
    t.teardown(() => smtp.close());
    const answers = async (env: Record<string, string>) => {
      const store = await createTestStore(kind);
      t.teardown(() => store.cleanup());
      const server = await startUmbral(store, env);
      t.teardown(() => server.stop());
      t.false(server.config.production);
      // Fetched at the listening address: an https ISSUER is what a proxy in front would serve.
      return Promise.all(OUTBOX_ROUTES.map(async (route) => (await fetch(`${server.issuer}${route}`)).status));
    };
    t.deepEqual(
      await answers({ ISSUER: 'https://id.example.com', SMTP_URL: smtp.url, NODE_ENV: 'development' }),
      [404, 404, 404, 404],
      'an https issuer, even in development',
    );
    t.deepEqual(await answers({ SMTP_URL: smtp.url }), [404, 404, 404, 404], 'loopback, but mail goes over SMTP');
    const [list, css] = await answers({});
    t.is(list, 200, 'loopback without SMTP_URL');
    t.is(css, 200);
  });
}
