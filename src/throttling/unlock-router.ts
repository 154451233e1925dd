import Router from '@koa/router';
import { z } from 'zod';
import { bodyParser } from '../http/body-parser.ts';
import { csrfProtection, expiredFormPage } from '../http/csrf.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import type { AccountLockout } from './account-lockout.ts';
import type { UnlockLinks } from './unlock-links.ts';

export interface UnlockRouterDependencies {
  issuer: string;
  secure: boolean;
  pages: PageRenderer;
  links: Pick<UnlockLinks, 'find'>;
  lockout: Pick<AccountLockout, 'unlock'>;
}

const unlockForm = z.object({ token: formFields.text() });

/**
 * The link mailed to the owner of a locked password sign-in (account-lockout.ts):
 *   GET /unlock?token=… shows a button and changes nothing (mail scanners open links too);
 *   POST /unlock lifts the lock (and the count) → /unlock/done. The password then works again,
 *   in any browser: the owner often reads mail on another device than the one signing in.
 */
export function unlockRouter(deps: UnlockRouterDependencies): Router {
  const { pages } = deps;
  const router = new Router({ prefix: '/unlock' });
  // The link's token is in the form: the unlock page opens again from it.
  router.use(expiredFormPage(pages, (ctx) => `/unlock?token=${encodeURIComponent(readForm(ctx, unlockForm).token)}`));
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));
  router.use(csrfProtection({ issuer: deps.issuer, secure: deps.secure }));

  router.get('/', async (ctx) => {
    const token = typeof ctx.query['token'] === 'string' ? ctx.query['token'] : '';
    const found = await deps.links.find(token);
    if (!found) return pages.render(ctx, 'unlock-invalid', {}, 400);
    await pages.render(ctx, 'unlock', { token, email: found.email });
  });

  router.post('/', async (ctx) => {
    const { token } = readForm(ctx, unlockForm);
    if (!(await deps.lockout.unlock(token))) return pages.render(ctx, 'unlock-invalid', {}, 400);
    seeOther(ctx, '/unlock/done');
  });

  router.get('/done', async (ctx) => {
    await pages.render(ctx, 'unlock-done', {});
  });

  return router;
}
