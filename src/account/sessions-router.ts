import Router from '@koa/router';
import { z } from 'zod';
import { formFields, readForm, seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { formatInstantShort } from '../i18n/i18n.ts';
import type { SessionDirectory } from '../sessions/session-directory.ts';
import type { SessionTerminator } from '../sessions/session-terminator.ts';
import { personTimeZone } from '../users/time-zone.ts';
import type { AccountAccess, SignedInAccount } from './account-access.ts';

/** /account/sessions: where the person is signed in (device, address, last seen); end one, or all others. */
const endSessionForm = z.object({ session: formFields.text() });

export function sessionsRouter(deps: {
  pages: PageRenderer;
  access: AccountAccess;
  directory: SessionDirectory;
  terminator: SessionTerminator;
}): Router {
  const router = new Router({ prefix: '/account/sessions' });
  const guard = deps.access.require();

  router.get('/', guard, async (ctx) => {
    const { user, sessionUid } = ctx.state['account'] as SignedInAccount;
    // This device first, then the others as the directory orders them.
    const listed = await deps.directory.list(user.id);
    const sessions = [...listed.filter((s) => s.uid === sessionUid), ...listed.filter((s) => s.uid !== sessionUid)];
    const ended = ctx.query['ended'] === 'one' || ctx.query['ended'] === 'others' ? ctx.query['ended'] : undefined;
    const timeZone = personTimeZone(user.time_zone, ctx.get('accept-language'));
    const locale = deps.pages.localeOf(ctx);
    const formatTime = (at: Date) => formatInstantShort(at, locale, timeZone);
    await deps.pages.render(ctx, 'account-sessions', { sessions, currentUid: sessionUid, ended, formatTime });
  });

  router.post('/end', guard, async (ctx) => {
    const { user, sessionUid } = ctx.state['account'] as SignedInAccount;
    const uid = readForm(ctx, endSessionForm).session;
    // This browser's own session ends through the logout page, which also tells its portals.
    if (uid === sessionUid) return seeOther(ctx, '/session/end');
    const ended = uid ? await deps.terminator.endByUid(user.id, uid, 'signed_out_remotely') : false;
    seeOther(ctx, ended ? '/account/sessions?ended=one' : '/account/sessions');
  });

  router.post('/end-others', guard, async (ctx) => {
    const { user, sessionUid } = ctx.state['account'] as SignedInAccount;
    await deps.terminator.endOthers(user.id, sessionUid, 'signed_out_remotely');
    seeOther(ctx, '/account/sessions?ended=others');
  });

  return router;
}
