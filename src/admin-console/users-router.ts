import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { originOf } from '../audit/audit-event.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import { type AdministrativeOrigin, UserAdministrationError, type UserReference } from '../users/admin-user.ts';
import type { UserAdministration } from '../users/user-administration.ts';
import type { ConsoleKit } from './console-pages.ts';
import { operatorOf } from './operator-access.ts';

type Users = Pick<
  UserAdministration,
  'search' | 'show' | 'disable' | 'enable' | 'resetFactors' | 'sessions' | 'endSessions'
>;

/** Notices after an action's 303: /admin/users/ID?done=… */
const DONE = ['disabled', 'enabled', 'factors_reset', 'sessions_ended', 'session_ended'] as const;
/** Why a user action was refused: a message key under admin_console.users.error. */
type UserActionError = 'confirm' | 'self' | 'session';

const confirmForm = z.object({ confirm_email: formFields.trimmed() });
const sessionForm = z.object({ session: formFields.text() });

/**
 * /admin/users: search by email or name, a person's account (factors, identities, companies, live
 * sessions), and what an operator does for them: disable (their sessions end, their portals told
 * by back-channel logout), enable, reset their second factors, end their sessions. The destructive
 * ones need a fresh sign-in and, for disable and reset, the person's email typed again.
 */
export function usersRouter(kit: ConsoleKit, deps: { users: Users }): Router {
  const { users } = deps;
  const router = new Router({ prefix: '/admin/users' });
  router.use(kit.guard);

  const origin = (ctx: Context): AdministrativeOrigin => ({
    actor: { kind: 'operator', id: operatorOf(ctx).user.id },
    via: 'console',
    ...originOf(ctx),
  });
  const ref = (ctx: Context): UserReference => ({ id: ctx.params['id'] ?? '' });

  router.get('/', async (ctx) => {
    const q = typeof ctx.query['q'] === 'string' ? ctx.query['q'] : '';
    const cursor = typeof ctx.query['cursor'] === 'string' ? ctx.query['cursor'] : undefined;
    try {
      const page = await users.search({ query: q, cursor, limit: 50 });
      const next = page.nextCursor ? `/admin/users?${new URLSearchParams({ q, cursor: page.nextCursor })}` : undefined;
      await kit.render(ctx, 'users', 'admin-users', { q, users: page.users, next, error: undefined });
    } catch (error) {
      if (!(error instanceof UserAdministrationError) || error.problem !== 'invalid') throw error;
      await kit.render(ctx, 'users', 'admin-users', { q: q.slice(0, 300), users: [], error: error.field ?? 'q' }, 400);
    }
  });

  /** The account page of the person, with the outcome of the last action, or a refusal tied to its form. */
  async function show(
    ctx: Context,
    refusal?: { form: string; error: UserActionError; typed?: string },
    status = 200,
  ): Promise<void> {
    let details: Awaited<ReturnType<Users['show']>>;
    try {
      details = await users.show(ref(ctx));
    } catch (error) {
      if (error instanceof UserAdministrationError && error.problem === 'not_found') {
        return kit.render(ctx, 'users', 'admin-not-found', {}, 404);
      }
      throw error;
    }
    const done = DONE.find((d) => d === ctx.query['done']);
    await kit.render(
      ctx,
      'users',
      'admin-user',
      {
        user: details,
        sessions: await users.sessions({ id: details.id }),
        done,
        refusal,
        self: details.id === operatorOf(ctx).user.id,
      },
      status,
    );
  }

  router.get('/:id', (ctx) => show(ctx));

  /** Disable and reset: the person's email typed again, and never the operator's own account. */
  const confirmed = async (ctx: Context, form: string): Promise<boolean> => {
    const typed = readForm(ctx, confirmForm).confirm_email;
    if (ctx.params['id'] === operatorOf(ctx).user.id) {
      await show(ctx, { form, error: 'self', typed }, 400);
      return false;
    }
    const target = await users.show(ref(ctx)).catch(() => undefined);
    if (target && typed.toLowerCase() !== target.email.toLowerCase()) {
      await show(ctx, { form, error: 'confirm', typed }, 400);
      return false;
    }
    return true;
  };
  const done = (ctx: Context, what: (typeof DONE)[number]) =>
    seeOther(ctx, `/admin/users/${encodeURIComponent(ctx.params['id'] ?? '')}?done=${what}`);
  /** A user who is not there (deleted meanwhile, a tampered id): the not-found page. */
  const orNotFound = async (ctx: Context, action: () => Promise<void>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      if (error instanceof UserAdministrationError && error.problem === 'not_found' && !error.field) {
        return kit.render(ctx, 'users', 'admin-not-found', {}, 404);
      }
      throw error;
    }
  };

  router.post('/:id/disable', kit.fresh, (ctx) =>
    orNotFound(ctx, async () => {
      if (!(await confirmed(ctx, 'disable'))) return;
      await users.disable(ref(ctx), origin(ctx));
      done(ctx, 'disabled');
    }),
  );

  router.post('/:id/enable', (ctx) =>
    orNotFound(ctx, async () => {
      await users.enable(ref(ctx), origin(ctx));
      done(ctx, 'enabled');
    }),
  );

  router.post('/:id/reset-factors', kit.fresh, (ctx) =>
    orNotFound(ctx, async () => {
      if (!(await confirmed(ctx, 'reset'))) return;
      await users.resetFactors(ref(ctx), origin(ctx));
      done(ctx, 'factors_reset');
    }),
  );

  router.post('/:id/end-sessions', kit.fresh, (ctx) =>
    orNotFound(ctx, async () => {
      const session = readForm(ctx, sessionForm).session;
      try {
        await users.endSessions(ref(ctx), origin(ctx), session || undefined);
      } catch (error) {
        if (error instanceof UserAdministrationError && error.field === 'session') {
          return show(ctx, { form: 'sessions', error: 'session' }, 400);
        }
        throw error;
      }
      done(ctx, session ? 'session_ended' : 'sessions_ended');
    }),
  );
  return router;
}
