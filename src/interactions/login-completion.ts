import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { SecondFactorGate } from '../mfa/second-factor-gate.ts';
import type { InteractionDependencies, InteractionDetails } from './interactions-router.ts';

/** What the first factor proved: who signed in, and how (RFC 8176 amr values). */
export interface FirstFactor {
  accountId: string;
  amr: string[];
  acr?: string;
}

/**
 * Every sign-in ends here, whatever proved the first factor (password, the emailed
 * verification, an upstream provider, a passkey). Policies that apply to all of them
 * (a second factor, one session per user) hook in here, so no path can skip them.
 */
export class LoginCompletion {
  /** The second-factor policy (src/mfa): the factor step, enrollment for require-mfa portals, step-up. */
  readonly secondFactor: SecondFactorGate;

  constructor(
    private readonly deps: Pick<
      InteractionDependencies,
      'provider' | 'singleSession' | 'mfa' | 'storage' | 'logger' | 'config'
    >,
  ) {
    this.secondFactor = new SecondFactorGate({
      provider: deps.provider,
      db: deps.storage.db,
      mfa: deps.mfa,
      logger: deps.logger,
      secure: deps.config.secure,
    });
  }

  async complete(ctx: Context, details: InteractionDetails, first: FirstFactor): Promise<void> {
    const proven = await this.secondFactor.afterFirstFactor(ctx, details, first);
    if (proven) await this.signIn(ctx, details, proven);
  }

  /** The last step, once every factor the sign-in needs has passed: session policy, then the result. */
  async signIn(ctx: Context, details: InteractionDetails, factors: FirstFactor): Promise<void> {
    await this.deps.singleSession.enforce({
      accountId: factors.accountId,
      clientId: String(details.params['client_id']),
      currentSession: details.session,
    });
    const login = {
      accountId: factors.accountId,
      amr: factors.amr,
      remember: true,
      ...(factors.acr ? { acr: factors.acr } : {}),
    };
    await this.finish(ctx, answeringCreate(details, { login }), false);
  }

  /** Hands the result to oidc-provider and follows it with a 303. */
  async finish(ctx: Context, result: InteractionResults, mergeWithLastSubmission: boolean): Promise<void> {
    const returnTo = await this.deps.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
    ctx.redirect(returnTo);
    ctx.status = 303;
  }
}

/** A login also answers prompt=create when that was asked, or oidc-provider would ask it again. */
function answeringCreate(details: InteractionDetails, result: InteractionResults): InteractionResults {
  const asked =
    details.prompt.name === 'create' ||
    String(details.params['prompt'] ?? '')
      .split(' ')
      .includes('create');
  return asked ? { ...result, create: {} } : result;
}
