import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../logging/logger.ts';
import type { RefreshRotations, TokenResponse } from './refresh-rotations.ts';

/**
 * In front of oidc-provider's token endpoint: every token request runs in a RefreshRotations
 * scope, and once oidc-provider has answered, a refresh-token rotation is committed — or, when
 * another request rotated the same token first, the answer becomes that request's response.
 * Logs a rotated token presented after its grace (oidc-provider has revoked the grant by then).
 */
export function idempotentRefresh(options: {
  rotations: RefreshRotations;
  logger: Logger;
  /** The token endpoint's path inside the provider's app. */
  tokenPath: string;
}): Middleware {
  const { rotations, logger, tokenPath } = options;
  return async function idempotentRefreshMiddleware(ctx, next) {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    await rotations.run(async (attempt) => {
      await next();
      const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
      const clientId = oidc?.client?.clientId;
      if (!attempt.consumedId) {
        const presented = oidc?.entities.RefreshToken;
        if (ctx.status === 400 && presented?.consumed) {
          logger.warn(
            { event: 'refresh_token.reused', clientId, grantId: presented.grantId },
            'a rotated refresh token was used again after its grace: the grant is revoked',
          );
        }
        return;
      }
      const response = ctx.body as TokenResponse | undefined;
      // oidc-provider failed after consuming: nothing of the rotation was written, the token stays usable.
      if (ctx.status !== 200 || typeof response?.access_token !== 'string') return;
      try {
        const outcome = await rotations.commit(attempt.consumedId, attempt.rows, response);
        if (outcome.kind === 'replayed') {
          ctx.body = outcome.response;
          logger.info(
            { event: 'refresh_token.replayed', clientId, grantId: outcome.grantId },
            'a refresh token used again within its grace got the same successor',
          );
        } else if (outcome.kind === 'spent') {
          ctx.status = 400;
          ctx.body = { error: 'invalid_grant', error_description: 'refresh token already used' };
        }
      } catch (error) {
        logger.error({ err: error, clientId }, 'refresh token rotation could not be committed');
        ctx.status = 500;
        ctx.body = { error: 'server_error', error_description: 'oops! something went wrong' };
      }
    });
  };
}
