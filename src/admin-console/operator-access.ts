import type { Context, Middleware } from 'koa';
import { type AccountAccess, RECENT_SIGN_IN_SECONDS, type SignedInAccount } from '../account/account-access.ts';
import type { AccountSignIn } from '../account/account-sign-in.ts';
import { type AuditTrail, originOf } from '../audit/audit-event.ts';
import { seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { ACR_MULTI_FACTOR, levelOfAmr } from '../mfa/authentication-level.ts';
import type { FactorKind } from '../mfa/factor-repository.ts';
import type { OperatorDirectory } from './operators.ts';

/** RFC 8176 methods of the factors an operator must sign in with: an authenticator app (otp) or a passkey. */
const STRONG_METHODS = ['otp', 'hwk', 'swk'];
/** The enrolled factors that can give them. */
const STRONG_FACTORS: readonly FactorKind[] = ['totp', 'passkey'];

/** The operator on a console page (ctx.state['operator']). */
export type ConsoleOperator = SignedInAccount;

export interface OperatorAccessDependencies {
  access: AccountAccess;
  signIn: AccountSignIn;
  operators: OperatorDirectory;
  factors: { list(userId: string): Promise<Array<{ kind: FactorKind }>> };
  pages: PageRenderer;
  audit: AuditTrail;
}

/**
 * Who gets into /admin. The authority is Umbral's own browser session, reached through the account
 * page's sign-in (the built-in account client): a person without one signs in, asked for a second
 * factor (acr_values). Then: an operator (`umbral operators add`), or a 403 page; signed in with a
 * passkey or an authenticator app, or sent through a step-up sign-in that asks for one (SMS alone
 * is phishable and tied to a phone number, so it is not enough here); without such a factor, a
 * page that says to enrol one. Destructive actions also need a sign-in less than five minutes old,
 * as the account page's sensitive changes do.
 */
export class OperatorAccess {
  constructor(private readonly deps: OperatorAccessDependencies) {}

  /** Every console page and form. */
  require(): Middleware {
    return async (ctx, next) => {
      if (await this.admitted(ctx)) await next();
    };
  }

  /**
   * Destructive actions (POST, after `require`): a sign-in less than five minutes old. Otherwise
   * nothing is done: the browser signs in again (password and second factor) and comes back to
   * the form's page, where the action can be sent again.
   */
  requireFresh(): Middleware {
    return async (ctx, next) => {
      const operator = ctx.state['operator'] as ConsoleOperator;
      if (Date.now() / 1000 - operator.loginTs <= RECENT_SIGN_IN_SECONDS) return next();
      this.deps.signIn.start(ctx, {
        returnTo: pageOf(ctx),
        reauth: true,
        loginHint: operator.user.email,
        locale: this.deps.pages.localeOf(ctx),
        acrValues: ACR_MULTI_FACTOR,
      });
    };
  }

  private async admitted(ctx: Context): Promise<boolean> {
    const account = await this.deps.access.current(ctx);
    if (!account) {
      this.signInAgain(ctx, { reauth: false });
      return false;
    }
    if (!(await this.deps.operators.isOperator(account.user.id))) {
      this.deps.audit.record({
        type: 'operator.console_refused',
        actor: { kind: 'user', id: account.user.id },
        subjectUserId: account.user.id,
        ...originOf(ctx),
        data: { path: ctx.path },
      });
      await this.deps.pages.render(ctx, 'admin-forbidden', { email: account.user.email }, 403);
      return false;
    }
    if (!account.amr.some((method) => STRONG_METHODS.includes(method))) {
      const factors = await this.deps.factors.list(account.user.id);
      const hasStrong = factors.some((factor) => STRONG_FACTORS.includes(factor.kind));
      // One factor so far, and a strong one enrolled: the step-up asks only for the second.
      if (hasStrong && levelOfAmr(account.amr) === 'sfa') {
        this.signInAgain(ctx, { reauth: false, loginHint: account.user.email });
        return false;
      }
      // No strong factor, or two factors already but not a strong one (SMS): the page says what to do.
      await this.deps.pages.render(
        ctx,
        'admin-second-factor',
        { email: account.user.email, mode: hasStrong ? 'use' : 'enrol' },
        403,
      );
      return false;
    }
    ctx.state['operator'] = account;
    return true;
  }

  /** /admin/step-up: signs in again (password and second factor), asking for the strong factor, and returns to /admin. */
  stepUp(ctx: Context, email: string | undefined): void {
    this.deps.signIn.start(ctx, {
      returnTo: '/admin',
      reauth: true,
      loginHint: email,
      locale: this.deps.pages.localeOf(ctx),
      acrValues: ACR_MULTI_FACTOR,
    });
  }

  /** GETs go through the sign-in and come back; a form posted without the right sign-in goes back to its page. */
  private signInAgain(ctx: Context, options: { reauth: boolean; loginHint?: string }): void {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      seeOther(ctx, pageOf(ctx));
      return;
    }
    this.deps.signIn.start(ctx, {
      returnTo: ctx.originalUrl,
      reauth: options.reauth,
      loginHint: options.loginHint,
      locale: this.deps.pages.localeOf(ctx),
      acrValues: ACR_MULTI_FACTOR,
    });
  }
}

/** The page a console form is on: its action without the last segment (/admin/users/ID/disable → /admin/users/ID). */
export function pageOf(ctx: Context): string {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return ctx.originalUrl;
  const parent = ctx.path.replace(/\/[^/]*$/, '');
  return parent.startsWith('/admin') ? parent : '/admin';
}

export function operatorOf(ctx: Context): ConsoleOperator {
  return ctx.state['operator'] as ConsoleOperator;
}
