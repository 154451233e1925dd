import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { originOf } from '../audit/audit-event.ts';
import { ClientInputError } from '../clients/client-registration.ts';
import { type ClientChangeContext, ClientNotFoundError, type ClientService } from '../clients/client-service.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import type { ConsoleKit } from './console-pages.ts';
import { operatorOf } from './operator-access.ts';
import type { ShownOnce } from './shown-once.ts';

type Clients = Pick<ClientService, 'list' | 'get' | 'rotateSecret' | 'remove'>;

const PATH = '/admin/portals';
const PAGE_SIZE = 50;
/** How long the previous secret may keep working: whole days, as the CLI's --keep-old-for 7d. */
export const MAX_KEEP_OLD_DAYS = 90;
export const DEFAULT_KEEP_OLD_DAYS = 7;

const rotateForm = z.object({ keep_old_days: formFields.trimmed() });
const removeForm = z.object({ confirm_client_id: formFields.trimmed() });

type PortalRefusal = { form: 'rotate' | 'remove'; error: 'keep_old_days' | 'confirm' | 'no_secret'; typed: string };

/**
 * /admin/portals: the registered portals (search by id or name), one portal's settings and its
 * secrets' dates, secret rotation (the new secret shown once; the previous one keeps working for
 * the days chosen, 7 by default) and removal (its client id typed again). Both need a fresh sign-in.
 */
export function portalsRouter(kit: ConsoleKit, deps: { clients: Clients; shownOnce: ShownOnce }): Router {
  const { clients } = deps;
  const router = new Router({ prefix: PATH });
  router.use(kit.guard);
  const change = (ctx: Context): ClientChangeContext => ({
    actor: { kind: 'operator', id: operatorOf(ctx).user.id },
    origin: originOf(ctx),
  });
  const pageOf = (id: string) => `${PATH}/${encodeURIComponent(id)}`;

  router.get('/', async (ctx) => {
    const q = typeof ctx.query['q'] === 'string' ? ctx.query['q'].trim().slice(0, 200) : '';
    const after = typeof ctx.query['after'] === 'string' ? ctx.query['after'] : undefined;
    const page = await clients.list({ search: q || undefined, limit: PAGE_SIZE, after });
    await kit.render(ctx, 'portals', 'admin-portals', {
      q,
      portals: page.clients.map((c) => c.metadata),
      next: page.next ? `${PATH}?${new URLSearchParams({ ...(q ? { q } : {}), after: page.next })}` : undefined,
      removed: typeof ctx.query['removed'] === 'string' ? ctx.query['removed'] : undefined,
    });
  });

  async function show(ctx: Context, refusal?: PortalRefusal, status = 200): Promise<void> {
    const id = ctx.params['id'] ?? '';
    let portal: Awaited<ReturnType<Clients['get']>>;
    try {
      portal = await clients.get(id);
    } catch (error) {
      if (error instanceof ClientNotFoundError) return kit.render(ctx, 'portals', 'admin-not-found', {}, 404);
      throw error;
    }
    await kit.render(
      ctx,
      'portals',
      'admin-portal',
      {
        portal: portal.metadata,
        secrets: portal.secrets,
        createdAt: portal.createdAt,
        updatedAt: portal.updatedAt,
        newSecret: ctx.method === 'GET' ? deps.shownOnce.take(ctx, pageOf(id), operatorOf(ctx).user.id) : undefined,
        refusal,
        defaultKeepOldDays: DEFAULT_KEEP_OLD_DAYS,
        maxKeepOldDays: MAX_KEEP_OLD_DAYS,
      },
      status,
    );
  }

  router.get('/:id', (ctx) => show(ctx));

  router.post('/:id/rotate-secret', kit.fresh, async (ctx) => {
    const id = ctx.params['id'] ?? '';
    const typed = readForm(ctx, rotateForm).keep_old_days;
    const days = /^\d{1,3}$/.test(typed) ? Number(typed) : Number.NaN;
    if (!(days >= 0 && days <= MAX_KEEP_OLD_DAYS)) {
      return show(ctx, { form: 'rotate', error: 'keep_old_days', typed }, 400);
    }
    try {
      const { secret } = await clients.rotateSecret(id, { keepOldForSeconds: days * 86_400 }, change(ctx));
      deps.shownOnce.hold(ctx, pageOf(id), operatorOf(ctx).user.id, secret);
      seeOther(ctx, `${pageOf(id)}?rotated=1`);
    } catch (error) {
      if (error instanceof ClientNotFoundError) return kit.render(ctx, 'portals', 'admin-not-found', {}, 404);
      // A portal without a secret (public, or private_key_jwt) has nothing to rotate.
      if (error instanceof ClientInputError) return show(ctx, { form: 'rotate', error: 'no_secret', typed }, 400);
      throw error;
    }
  });

  router.post('/:id/remove', kit.fresh, async (ctx) => {
    const id = ctx.params['id'] ?? '';
    const typed = readForm(ctx, removeForm).confirm_client_id;
    if (typed !== id) return show(ctx, { form: 'remove', error: 'confirm', typed }, 400);
    try {
      await clients.remove(id, change(ctx));
    } catch (error) {
      if (error instanceof ClientNotFoundError) return kit.render(ctx, 'portals', 'admin-not-found', {}, 404);
      throw error;
    }
    seeOther(ctx, `${PATH}?${new URLSearchParams({ removed: id })}`);
  });
  return router;
}
