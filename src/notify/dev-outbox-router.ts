import Router from '@koa/router';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { Database, MailQueueRow } from '../storage/schema.ts';
import { MailQueue } from './mail-queue.ts';

/** The rendered HTML email, shown on its own: no scripts, no forms, a unique origin, our cookies out of reach. */
const EMAIL_HTML_CSP = [
  "default-src 'none'",
  'img-src * data:',
  "style-src 'unsafe-inline'", // emails style inline
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  'sandbox allow-popups allow-popups-to-escape-sandbox',
].join('; ');

/** Served from 'self' so the page CSP (style-src 'self') allows it: our card is too narrow for mail. */
const OUTBOX_CSS = `.card { max-width: 56rem; }
.outbox-list { list-style: none; padding: 0; margin: 1rem 0; }
.outbox-list li { border-top: 1px solid var(--line); padding: .75rem 0; }
.outbox-meta { color: var(--muted); font-size: .875rem; margin: .25rem 0 0; overflow-wrap: anywhere; }
.outbox-failed { color: var(--error); }
.outbox-text { white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .875rem; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
`;

export interface DevOutboxOptions {
  config: Config;
  db: Kysely<Database>;
  pages: PageRenderer;
}

/**
 * GET /dev/outbox: queued and delivered email with status and last error, and for the dev outbox
 * transport each message's text (links clickable) and HTML. It tells who has an account and holds
 * secret links, so it exists only where config.devOutbox says (a loopback ISSUER without
 * SMTP_URL); anywhere else the router has no routes at all (404), even if mounted by mistake.
 */
export function devOutboxRouter({ config, db, pages }: DevOutboxOptions): Router {
  const router = new Router();
  if (!config.devOutbox) return router;
  const queue = new MailQueue(db);

  router.get('/dev/outbox', async (ctx) => {
    const messages = (await queue.recent()).map(summary);
    await pages.render(ctx, 'dev-outbox', { messages });
  });

  router.get('/dev/outbox.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.body = OUTBOX_CSS;
  });

  router.get('/dev/outbox/:id', async (ctx) => {
    const row = await queue.find(ctx.params['id'] ?? '');
    if (!row) return;
    await pages.render(ctx, 'dev-outbox-message', {
      message: summary(row),
      textParts: row.text_body === null ? undefined : withLinks(row.text_body),
      hasHtml: row.html_body !== null,
    });
  });

  router.get('/dev/outbox/:id/html', async (ctx) => {
    const row = await queue.find(ctx.params['id'] ?? '');
    if (!row?.html_body) return;
    ctx.set('Content-Security-Policy', EMAIL_HTML_CSP);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = row.html_body;
  });

  return router;
}

function summary(row: MailQueueRow) {
  return {
    id: row.id,
    to: row.to_address,
    template: row.template,
    locale: row.locale,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    created: `${row.created_at.toISOString().slice(0, 19).replace('T', ' ')} UTC`,
  };
}

/** Splits plain text into runs and http(s) links, so the page can make links clickable without raw HTML. */
export function withLinks(text: string): Array<{ text: string; href?: string }> {
  const parts: Array<{ text: string; href?: string }> = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    const url = match[0].replace(/[.,;:!?)\]]+$/, ''); // sentence punctuation after a link
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ text: url, href: url });
    last = match.index + url.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
