import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import {
  type FirstFactor,
  type InteractionDetails,
  type InteractionRoute,
  outcome,
  type SignInStep,
  type StepOutcome,
} from '../interactions/interaction.ts';
import type { Logger } from '../logging/logger.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import type { UserRepository } from '../users/users.ts';
import { FactorStep } from './factor-step.ts';
import { LoginEnrollment } from './login-enrollment.ts';
import type { Mfa } from './mfa.ts';
import { PendingSecondFactorCookie, SECOND_FACTOR_STEP } from './pending-second-factor.ts';
import { SecondFactorGate } from './second-factor-gate.ts';

export interface SecondFactorStepDependencies {
  /** `secure` for the cookies; `productName` and `issuer` for the SMS text. */
  config: Pick<Config, 'secure' | 'productName' | 'issuer'>;
  /** Client lookups: a require_mfa client, and its name on the enrollment page. */
  provider: Pick<Provider, 'Client'>;
  /** The person's language, for the SMS and the factors' names. */
  pages: Pick<PageRenderer, 'localeOf'>;
  throttle: LoginThrottle;
  logger: Logger;
  mfa: Mfa;
  users: Pick<UserRepository, 'findById'>;
}

/**
 * The second factor of every sign-in, whatever proved the first. `enter` lets the login on (with
 * its acr) or pauses it on the factor step, or on enrollment when the portal requires MFA of a
 * user without a factor; `resume` asks only the second factor of a session that has the first and
 * meets a demand for MFA (step-up). Its pages end with `outcome.login(proven, 'second-factor')`.
 */
export class SecondFactorStep implements SignInStep {
  readonly name = SECOND_FACTOR_STEP;
  readonly routes: readonly InteractionRoute[];
  private readonly gate: SecondFactorGate;

  constructor(deps: SecondFactorStepDependencies) {
    const pending = new PendingSecondFactorCookie(deps.config.secure);
    this.gate = new SecondFactorGate({ ...deps, pending });
    const factor = new FactorStep({ ...deps, pending });
    const enrollment = new LoginEnrollment({ ...deps, pending });
    const route = (
      method: InteractionRoute['method'],
      path: string,
      handle: InteractionRoute['handle'],
    ): InteractionRoute => ({ method, path, handle });
    this.routes = [
      // The factor step.
      route('get', '/mfa', (ctx, details) => factor.show(ctx, details)),
      route('post', '/mfa/totp', (ctx, details) => factor.submitTotp(ctx, details)),
      route('post', '/mfa/sms/send', (ctx, details) => factor.sendSms(ctx, details)),
      route('post', '/mfa/sms', (ctx, details) => factor.submitSms(ctx, details)),
      route('post', '/mfa/recovery', (ctx, details) => factor.submitRecoveryCode(ctx, details)),
      route('get', '/mfa/passkey/options', (ctx, details) => factor.passkeyOptions(ctx, details)),
      route('post', '/mfa/passkey', (ctx, details) => factor.submitPasskey(ctx, details)),
      // Enrollment during sign-in.
      route('get', '/mfa/enroll', (ctx, details) => enrollment.show(ctx, details)),
      route('post', '/mfa/enroll/totp', (ctx, details) => enrollment.startTotp(ctx, details)),
      route('get', '/mfa/enroll/totp', (ctx, details) => enrollment.showTotp(ctx, details)),
      route('post', '/mfa/enroll/totp/confirm', (ctx, details) => enrollment.confirmTotp(ctx, details)),
      route('get', '/mfa/enroll/passkey/options', (ctx, details) => enrollment.passkeyOptions(ctx, details)),
      route('post', '/mfa/enroll/passkey', (ctx, details) => enrollment.registerPasskey(ctx, details)),
      route('get', '/mfa/enroll/codes', (ctx, details) => enrollment.showCodes(ctx, details)),
      route('post', '/mfa/enroll/done', (ctx, details) => enrollment.done(ctx, details)),
    ];
  }

  /** Signed in with one factor, and this portal or request wants two: only the second is asked. */
  async resume(_ctx: Context, details: InteractionDetails): Promise<StepOutcome | undefined> {
    const first = this.gate.stepUpFirstFactor(details);
    return first ? outcome.login(first) : undefined;
  }

  /** The login with its acr when no second factor is needed; else the factor step (or enrollment). */
  enter(ctx: Context, details: InteractionDetails, login: FirstFactor): Promise<FirstFactor | StepOutcome> {
    return this.gate.afterFirstFactor(ctx, details, login);
  }
}
