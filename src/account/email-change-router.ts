import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { formFields, readForm, seeOther } from '../http/form.ts';
import { LinkTokenCookie } from '../http/link-token-cookie.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { type AccountAccess, RECENT_SIGN_IN_SECONDS, type SignedInAccount } from './account-access.ts';
import { CHANGE_EMAIL_LINK_TTL_MS, type EmailChange } from './email-change.ts';

/**
 * /account/email: asks for the new address after a recent sign-in; /account/email/confirm is
 * where the emailed link lands (any browser: the link is the proof), with a button to confirm.
 * The link's first GET moves its token into a cookie and 303s to the page without it
 * (link-token-cookie.ts); the button's POST reads it from there.
 */
const emailForm = z.object({ email: formFields.text() });

export function emailChangeRouter(deps: {
  pages: PageRenderer;
  access: AccountAccess;
  emailChange: EmailChange;
  secure: boolean;
}): Router {
  const router = new Router({ prefix: '/account/email' });
  const recent = deps.access.require({ recentSeconds: RECENT_SIGN_IN_SECONDS });
  const link = new LinkTokenCookie({
    name: 'umbral.email-change-link',
    path: '/account/email/confirm',
    secure: deps.secure,
    linkTtlSeconds: CHANGE_EMAIL_LINK_TTL_MS / 1000,
  });

  const show = (ctx: Context, newEmail = '', error?: string, status = 200) => {
    const { user } = ctx.state['account'] as SignedInAccount;
    return deps.pages.render(ctx, 'account-email', { user, newEmail, error }, status);
  };

  router.get('/', recent, async (ctx) => show(ctx));

  router.post('/', recent, async (ctx) => {
    const { user } = ctx.state['account'] as SignedInAccount;
    const input = readForm(ctx, emailForm).email.slice(0, 320);
    const outcome = await deps.emailChange.request(user, input, deps.pages.localeOf(ctx));
    if (outcome.kind !== 'sent') return show(ctx, input, outcome.kind, outcome.kind === 'limited' ? 429 : 400);
    seeOther(ctx, '/account/email/sent');
  });

  router.get('/sent', deps.access.require(), async (ctx) => {
    const { user } = ctx.state['account'] as SignedInAccount;
    const newEmail = await deps.emailChange.pending(user.id);
    if (!newEmail) return seeOther(ctx, '/account/email');
    await deps.pages.render(ctx, 'account-email-sent', { newEmail });
  });

  router.get('/confirm', async (ctx) => {
    if (link.takeFromUrl(ctx)) return;
    if (!(await deps.emailChange.isValid(link.read(ctx)))) {
      link.clear(ctx);
      return deps.pages.render(ctx, 'account-email-result', { result: 'invalid' }, 400);
    }
    await deps.pages.render(ctx, 'account-email-confirm', {});
  });

  router.post('/confirm', async (ctx) => {
    const outcome = await deps.emailChange.confirm(link.read(ctx));
    // Used up, or found invalid: either way the token is done with.
    link.clear(ctx);
    const status = outcome.kind === 'changed' ? 200 : outcome.kind === 'taken' ? 409 : 400;
    await deps.pages.render(
      ctx,
      'account-email-result',
      { result: outcome.kind, newEmail: outcome.kind === 'changed' ? outcome.newEmail : undefined },
      status,
    );
  });

  return router;
}
