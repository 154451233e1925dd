import type Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionDetails } from '../interactions/interactions-router.ts';
import { FactorStep } from './factor-step.ts';
import { LoginEnrollment } from './login-enrollment.ts';
import { type LoadInteraction, type LoginStepDependencies, seeOther } from './login-step-support.ts';
import { PasskeyLogin } from './passkey-login.ts';

/**
 * The login's MFA routes, on the interactions router (so they share its expiry handling, body
 * parsing and CSRF check): passkey sign-in, the factor step and enrollment during sign-in.
 */
export function registerSecondFactorRoutes(router: Router, deps: LoginStepDependencies, load: LoadInteraction): void {
  const step = new FactorStep(deps);
  const enrollment = new LoginEnrollment(deps);
  const passkeyLogin = new PasskeyLogin(deps);
  const signingIn = (details: InteractionDetails) =>
    details.prompt.name === 'login' || details.prompt.name === 'create';

  /** Runs `handler` while the interaction is a sign-in; else back to its current step. */
  const during = (handler: (ctx: Context, details: InteractionDetails) => Promise<void>) => async (ctx: Context) => {
    const details = await load(ctx);
    if (!signingIn(details)) return seeOther(ctx, `/interaction/${details.uid}`);
    await handler(ctx, details);
  };

  router.get(
    '/passkey/options',
    during((ctx, details) => passkeyLogin.options(ctx, details)),
  );
  router.post(
    '/passkey',
    during((ctx, details) => passkeyLogin.submit(ctx, details)),
  );

  router.get(
    '/mfa',
    during((ctx, details) => step.show(ctx, details)),
  );
  router.post(
    '/mfa/totp',
    during((ctx, details) => step.submitTotp(ctx, details)),
  );
  router.post(
    '/mfa/sms/send',
    during((ctx, details) => step.sendSms(ctx, details)),
  );
  router.post(
    '/mfa/sms',
    during((ctx, details) => step.submitSms(ctx, details)),
  );
  router.post(
    '/mfa/recovery',
    during((ctx, details) => step.submitRecoveryCode(ctx, details)),
  );
  router.get(
    '/mfa/passkey/options',
    during((ctx, details) => step.passkeyOptions(ctx, details)),
  );
  router.post(
    '/mfa/passkey',
    during((ctx, details) => step.submitPasskey(ctx, details)),
  );

  router.get(
    '/mfa/enroll',
    during((ctx, details) => enrollment.show(ctx, details)),
  );
  router.post(
    '/mfa/enroll/totp',
    during((ctx, details) => enrollment.startTotp(ctx, details)),
  );
  router.get(
    '/mfa/enroll/totp',
    during((ctx, details) => enrollment.showTotp(ctx, details)),
  );
  router.post(
    '/mfa/enroll/totp/confirm',
    during((ctx, details) => enrollment.confirmTotp(ctx, details)),
  );
  router.get(
    '/mfa/enroll/passkey/options',
    during((ctx, details) => enrollment.passkeyOptions(ctx, details)),
  );
  router.post(
    '/mfa/enroll/passkey',
    during((ctx, details) => enrollment.registerPasskey(ctx, details)),
  );
  router.get(
    '/mfa/enroll/codes',
    during((ctx, details) => enrollment.showCodes(ctx, details)),
  );
  router.post(
    '/mfa/enroll/done',
    during((ctx, details) => enrollment.done(ctx, details)),
  );
}
