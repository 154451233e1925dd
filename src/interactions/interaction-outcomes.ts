import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { seeOther, sendJson } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { type InteractionDetails, InteractionError, type StepOutcome } from './interaction.ts';
import type { SignInPipeline } from './sign-in-pipeline.ts';

/** The one place where a step's outcome becomes a response. */
export class InteractionOutcomes {
  constructor(private readonly deps: { provider: Provider; pages: PageRenderer; pipeline: SignInPipeline }) {}

  /**
   * Answers with `answer`. Without `details` (a route's `whenGone`: the interaction is gone)
   * only pages, redirects and JSON can be sent.
   */
  async send(ctx: Context, details: InteractionDetails | undefined, answer: StepOutcome): Promise<void> {
    let current = answer;
    while (current.type === 'login' || current.type === 'result') {
      if (!details) throw new Error(`a ${current.type} outcome needs an interaction`);
      if (current.type === 'result') return seeOther(ctx, await finish(details, current.result, current.merge));
      // A passed first factor (or a paused step's page passed) runs the steps that follow.
      current = await this.deps.pipeline.continue(ctx, details, current.login, current.after);
    }
    for (const [name, value] of Object.entries(current.headers ?? {})) ctx.set(name, value);
    switch (current.type) {
      case 'redirect':
        return seeOther(ctx, current.location);
      case 'page':
        return this.deps.pages.render(ctx, current.view, current.locals, current.status);
      case 'json':
        ctx.status = current.status;
        return sendJson(ctx, current.body);
    }
  }
}

/**
 * What oidc-provider's `interactionResult` does, on the interaction this request already loaded
 * (its `interactionDetails`) instead of reading it again: one statement less per sign-in step.
 */
async function finish(interaction: InteractionDetails, result: InteractionResults, merge = true): Promise<string> {
  interaction.result = merge && !('error' in result) ? { ...interaction.lastSubmission, ...result } : result;
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  return interaction.returnTo;
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
  if ((error as { status?: number }).status === 403 && ctx.state['csrfFailed']) {
    await pages.render(ctx, 'form-expired', { retryUrl: retryUrl(ctx) }, 403);
    return true;
  }
  // oidc-provider's own error for a missing or foreign interaction reads as ours.
  const code =
    error instanceof errors.SessionNotFound
      ? 'interaction_expired'
      : error instanceof InteractionError
        ? error.code
        : undefined;
  if (code === undefined) return false;
  if (code === 'interaction_expired') await pages.render(ctx, 'expired', {}, 400);
  else await pages.renderError(ctx, { error: 'generic' }, error, 404);
  return true;
}
