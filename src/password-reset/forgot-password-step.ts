import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { formFields, readForm } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import {
  type InteractionDetails,
  type InteractionRoute,
  outcome,
  type SignInStep,
  type StepOutcome,
} from '../interactions/interaction.ts';
import type { LoginIdentifierCookie } from '../interactions/login-identifier-cookie.ts';
import { isValidEmail, normalizeEmail } from '../users/email.ts';
import type { PasswordResetService } from './password-reset.ts';

export interface ForgotPasswordStepDependencies {
  pages: Pick<PageRenderer, 'localeOf'>;
  resets: Pick<PasswordResetService, 'requestReset'>;
  identifier: LoginIdentifierCookie;
  /** Finds the sign-in's portal, whose name the new password may not be based on. */
  provider: Pick<Provider, 'Client'>;
}

const forgotForm = z.object({ email: formFields.text().transform(normalizeEmail) });

/** The page that says "too many requests, wait N minutes", shared with /password/forgot. */
export function resetLimitedPage(retryAfterSeconds: number): StepOutcome {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return outcome.page('password-reset-limited', { minutes }, 429, { 'Retry-After': String(retryAfterSeconds) });
}

/**
 * "¿Olvidaste tu contraseña?" from the password step of a sign-in:
 *   GET/POST /interaction/:uid/forgot → /interaction/:uid/forgot/sent
 *   GET /interaction/:uid/password-changed: where a reset started here ends. In the browser that
 *   owns the sign-in it goes back to the password step with a notice; anywhere else (the link was
 *   opened on another device, or the sign-in expired) it shows the standalone notice.
 * The reset itself happens on /password/reset (password-reset-router.ts), from the emailed link.
 */
export class ForgotPasswordStep implements SignInStep {
  readonly name = 'forgot-password';
  readonly routes: readonly InteractionRoute[];

  constructor(private readonly deps: ForgotPasswordStepDependencies) {
    this.routes = [
      {
        method: 'get',
        path: '/forgot',
        handle: async (ctx, details) => this.form(details, this.typedEmail(ctx, details)),
      },
      { method: 'post', path: '/forgot', handle: (ctx, details) => this.submit(ctx, details) },
      {
        method: 'get',
        path: '/forgot/sent',
        handle: async (_ctx, details) =>
          outcome.page('forgot-password-sent', { backUrl: `/interaction/${details.uid}` }),
      },
      {
        method: 'get',
        path: '/password-changed',
        whenGone: outcome.page('password-changed'),
        handle: async (_ctx, details) => outcome.redirect(`/interaction/${details.uid}?notice=password_changed`),
      },
    ];
  }

  private typedEmail(ctx: Context, details: InteractionDetails): string {
    return this.deps.identifier.get(ctx, details.uid) ?? '';
  }

  private form(details: InteractionDetails, email: string, error?: string): StepOutcome {
    const locals = {
      action: `/interaction/${details.uid}/forgot`,
      email,
      backUrl: `/interaction/${details.uid}`,
      error,
    };
    return outcome.page('forgot-password', locals, error ? 400 : 200);
  }

  private async submit(ctx: Context, details: InteractionDetails): Promise<StepOutcome> {
    const { email } = readForm(ctx, forgotForm);
    if (!isValidEmail(email)) return this.form(details, email, 'email_invalid');
    const locale = this.deps.pages.localeOf(ctx);
    const portalName = (await this.deps.provider.Client.find(String(details.params['client_id'])))?.clientName;
    const sent = await this.deps.resets.requestReset({
      email,
      ip: ctx.ip,
      locale,
      interactionUid: details.uid,
      portalName,
      clientId: String(details.params['client_id']),
    });
    if (sent.kind === 'ip_limited') return resetLimitedPage(sent.retryAfterSeconds);
    // The password step, when they come back to it, is for the email the link went to.
    this.deps.identifier.set(ctx, details.uid, email);
    return outcome.redirect(`/interaction/${details.uid}/forgot/sent`);
  }
}
