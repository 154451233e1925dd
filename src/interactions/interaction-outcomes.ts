import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { seeOther, sendJson } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { type InteractionDetails, InteractionError, type StepOutcome } from './interaction.ts';
import type { SignInPipeline } from './sign-in-pipeline.ts';

/** The one place where a step's outcome becomes a response. */
export class InteractionOutcomes {
  constructor(private readonly deps: { provider: Provider; pages: PageRenderer; pipeline: SignInPipeline }) {}

  /** An answer that needs no interaction (a route's `whenGone`): a page or a redirect. */
  async sendWithout(ctx: Context, answer: StepOutcome): Promise<void> {
    if (answer.type === 'redirect') return seeOther(ctx, answer.location);
    if (answer.type !== 'page') throw new Error(`a ${answer.type} outcome needs an interaction`);
    return this.deps.pages.render(ctx, answer.view, answer.locals, answer.status);
  }

  async send(ctx: Context, details: InteractionDetails, answer: StepOutcome): Promise<void> {
    let current = answer;
    // A passed first factor (or a step's own page passed) runs the steps that follow.
    while (current.type === 'login') {
      current = await this.deps.pipeline.continue(ctx, details, current.login, current.after);
    }
    switch (current.type) {
      case 'redirect':
        return seeOther(ctx, current.location);
      case 'page':
        for (const [name, value] of Object.entries(current.headers ?? {})) ctx.set(name, value);
        return this.deps.pages.render(ctx, current.view, current.locals, current.status);
      case 'json':
        return sendJson(ctx, current.body);
      case 'result': {
        const returnTo = await this.deps.provider.interactionResult(ctx.req, ctx.res, current.result, {
          mergeWithLastSubmission: current.merge,
        });
        return seeOther(ctx, returnTo);
      }
    }
  }
}

/**
 * Errors inside an interaction end on a page in the person's language, never a stack trace: an
 * interaction that expired, finished already (back button, double submit) or belongs to another
 * browser; a stale form, with a link back to `retryUrl(ctx)` (the form's own page); a missing thing.
 */
export async function sendInteractionError(
  ctx: Context,
  pages: PageRenderer,
  error: unknown,
  retryUrl: (ctx: Context) => string,
): Promise<boolean> {
  if (error instanceof errors.SessionNotFound) {
    await pages.render(ctx, 'expired', {}, 400);
    return true;
  }
  if ((error as { status?: number }).status === 403 && ctx.state['csrfFailed']) {
    await pages.render(ctx, 'form-expired', { retryUrl: retryUrl(ctx) }, 403);
    return true;
  }
  if (!(error instanceof InteractionError)) return false;
  switch (error.code) {
    case 'interaction_expired':
      await pages.render(ctx, 'expired', {}, 400);
      return true;
    case 'form_expired':
      await pages.render(ctx, 'form-expired', { retryUrl: retryUrl(ctx) }, 403);
      return true;
    case 'not_found':
      await pages.renderError(ctx, { error: 'generic' }, error, 404);
      return true;
  }
}
