import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { originOf } from '../audit/audit-event.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import {
  type ChangedBy,
  type WebhookEndpoints,
  WebhookInputError,
  WebhookNotFoundError,
} from '../webhooks/webhook-endpoints.ts';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/webhook-events.ts';
import type { ConsoleKit } from './console-pages.ts';
import { operatorOf } from './operator-access.ts';
import type { ShownOnce } from './shown-once.ts';

type Endpoints = Pick<WebhookEndpoints, 'create' | 'list' | 'get' | 'update' | 'remove' | 'deliveries'>;

const PATH = '/admin/webhooks';

/** The add form: the URL, the events ticked (a field repeated per checkbox), a description. */
const endpointForm = z.object({
  url: formFields.trimmed(),
  description: formFields.trimmed(),
  events: z.preprocess(
    (value) => (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []),
    z.array(z.string()),
  ),
});

export interface EndpointFormValues {
  url: string;
  description: string;
  events: string[];
}

/**
 * /admin/webhooks: the endpoints, adding one (its secret shown once), each one's deliveries with
 * their attempts, turning it off and on, and removing it (after a fresh sign-in). Refusals of the
 * webhooks service are field errors, with what was typed kept.
 */
export function webhooksRouter(kit: ConsoleKit, deps: { endpoints: Endpoints; shownOnce: ShownOnce }): Router {
  const { endpoints } = deps;
  const router = new Router({ prefix: PATH });
  router.use(kit.guard);
  const by = (ctx: Context): ChangedBy => ({
    actor: { kind: 'operator', id: operatorOf(ctx).user.id },
    ...originOf(ctx),
  });

  async function list(ctx: Context, values?: EndpointFormValues, errors: Record<string, string> = {}, status = 200) {
    await kit.render(
      ctx,
      'webhooks',
      'admin-webhooks',
      {
        endpoints: (await endpoints.list()).endpoints,
        eventTypes: WEBHOOK_EVENT_TYPES,
        values: values ?? { url: '', description: '', events: [] },
        errors,
        removed: ctx.query['removed'] === '1',
      },
      status,
    );
  }

  router.get('/', (ctx) => list(ctx));

  router.post('/add', async (ctx) => {
    const values = readForm(ctx, endpointForm);
    try {
      const { endpoint, secret } = await endpoints.create(values, by(ctx));
      const page = `${PATH}/${endpoint.id}`;
      deps.shownOnce.hold(ctx, page, operatorOf(ctx).user.id, secret);
      seeOther(ctx, page);
    } catch (error) {
      if (!(error instanceof WebhookInputError)) throw error;
      await list(ctx, values, { [error.field]: error.field }, 400);
    }
  });

  /** An endpoint that is not there (removed meanwhile, a tampered id): the not-found page. */
  const found = async (ctx: Context, work: (id: string) => Promise<void>) => {
    try {
      await work(ctx.params['id'] ?? '');
    } catch (error) {
      if (!(error instanceof WebhookNotFoundError)) throw error;
      await kit.render(ctx, 'webhooks', 'admin-not-found', {}, 404);
    }
  };

  router.get('/:id', (ctx) =>
    found(ctx, async (id) => {
      const endpoint = await endpoints.get(id);
      await kit.render(ctx, 'webhooks', 'admin-webhook', {
        endpoint,
        deliveries: (await endpoints.deliveries(id, { limit: 50 })).deliveries,
        secret: deps.shownOnce.take(ctx, `${PATH}/${id}`, operatorOf(ctx).user.id),
        saved: ctx.query['saved'] === '1',
      });
    }),
  );

  router.post('/:id/toggle', (ctx) =>
    found(ctx, async (id) => {
      const endpoint = await endpoints.get(id);
      await endpoints.update(id, { enabled: !endpoint.enabled }, by(ctx));
      seeOther(ctx, `${PATH}/${id}?saved=1`);
    }),
  );

  router.post('/:id/remove', kit.fresh, (ctx) =>
    found(ctx, async (id) => {
      await endpoints.remove(id, by(ctx));
      seeOther(ctx, `${PATH}?removed=1`);
    }),
  );
  return router;
}
