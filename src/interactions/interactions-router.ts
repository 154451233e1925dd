import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { bodyParser } from '../http/body-parser.ts';
import { csrfProtection } from '../http/csrf.ts';
import { seeOther } from '../http/form.ts';
import { brandPageFor } from '../http/page-branding.ts';
import { pageLocale } from '../http/page-locale.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { type InteractionDetails, type InteractionRoute, isSigningIn, outcome } from './interaction.ts';
import { InteractionOutcomes, sendInteractionError } from './interaction-outcomes.ts';
import type { SignInPipeline } from './sign-in-pipeline.ts';

export interface InteractionsRouterDependencies {
  config: { issuer: string; secure: boolean };
  provider: Provider;
  pages: PageRenderer;
  /** The steps, in the order src/app.ts declares them. */
  pipeline: SignInPipeline;
}

/**
 * The hosted pages behind oidc-provider's prompts, at /interaction/:uid. It owns what every step
 * shares (binding the interaction to this browser, its language, body parsing, the CSRF check,
 * the error pages, rendering outcomes); the pages themselves are the steps' routes.
 */
export function interactionsRouter(deps: InteractionsRouterDependencies): Router {
  const { provider, pages, pipeline } = deps;
  const outcomes = new InteractionOutcomes({ provider, pages, pipeline });
  const routes = pipeline.steps.flatMap((step) => step.routes ?? []);
  const pagesWithForms = new Set(routes.filter((route) => route.method === 'get').map((route) => route.path));

  const router = new Router({ prefix: '/interaction/:uid' });
  // A stale form links back to its own page when it has one, else to the current step.
  const retryUrl = (ctx: Context) => {
    const sub = ctx.path.slice(`/interaction/${ctx.params['uid']}`.length);
    return `/interaction/${ctx.params['uid']}${pagesWithForms.has(sub) ? sub : ''}`;
  };
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(await sendInteractionError(ctx, pages, error, retryUrl))) throw error;
    }
  });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));
  router.use(csrfProtection({ issuer: deps.config.issuer, secure: deps.config.secure }));

  /** Loads the interaction bound to this browser, and speaks the language it asked for. */
  async function load(ctx: Context): Promise<InteractionDetails> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params['uid']) throw new errors.SessionNotFound('interaction mismatch');
    ctx.state['locale'] = pageLocale(ctx, details.params['ui_locales'] as string | undefined);
    brandPageFor(ctx, details.params['client_id'] as string | undefined);
    for (const step of pipeline.steps) await step.brand?.(ctx, details);
    return details;
  }

  router.get('/', async (ctx) => {
    const details = await load(ctx);
    await outcomes.send(ctx, details, await pipeline.resume(ctx, details));
  });

  for (const route of routes) {
    router[route.method](route.path, async (ctx) => {
      const details = await load(ctx).catch((error: unknown) => {
        if (route.whenGone && error instanceof errors.SessionNotFound) return undefined;
        throw error;
      });
      if (!details) return outcomes.send(ctx, undefined, route.whenGone!);
      // A form of another prompt (resubmitted after the step changed): back to the current step.
      if (!serves(route, details)) return seeOther(ctx, `/interaction/${details.uid}`);
      await outcomes.send(ctx, details, await route.handle(ctx, details));
    });
  }

  router.post('/abort', async (ctx) => {
    const details = await load(ctx);
    const denied = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    await outcomes.send(ctx, details, outcome.result(denied));
  });

  return router;
}

function serves(route: InteractionRoute, details: InteractionDetails): boolean {
  const during = route.during ?? 'sign-in';
  if (during === 'any') return true;
  return during === 'consent' ? details.prompt.name === 'consent' : isSigningIn(details);
}
