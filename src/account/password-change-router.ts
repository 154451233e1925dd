import Router from '@koa/router';
import type { Context } from 'koa';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { type AuditTrail, originOf } from '../audit/audit-event.ts';
import type { Config } from '../config/config.ts';
import { formFields, readForm, seeOther } from '../http/form.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { formatInstant, preferredLocale, translator } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { enqueueQuietly, type Mailer } from '../notify/mailer.ts';
import type { SessionTerminator } from '../sessions/session-terminator.ts';
import type { Database } from '../storage/schema.ts';
import type { LoginThrottle } from '../throttling/login-throttle.ts';
import { hashPassword, verifyPassword } from '../users/password-hasher.ts';
import { checkPassword, MAX_PASSWORD_LENGTH } from '../users/password-policy.ts';
import { personTimeZone } from '../users/time-zone.ts';
import { UserRepository } from '../users/users.ts';
import type { AccountAccess, SignedInAccount } from './account-access.ts';

type PasswordErrors = Partial<Record<'current' | 'password' | 'password_confirmation', string>>;

export interface PasswordChangeDependencies {
  config: Config;
  db: Kysely<Database>;
  pages: PageRenderer;
  access: AccountAccess;
  throttle: LoginThrottle;
  terminator: SessionTerminator;
  mailer: Mailer;
  logger: Logger;
  audit?: AuditTrail | undefined;
}

/**
 * /account/password: the current password, then the new one twice. On success every other
 * session of the person is ended (with back-channel logout to its portals) and they are told by
 * email. Wrong current passwords count against the login throttle, like any password guess.
 */
const passwordField = () => formFields.text().transform((value) => value.slice(0, MAX_PASSWORD_LENGTH * 4));
const passwordChangeForm = z.object({
  current_password: passwordField(),
  password: passwordField(),
  password_confirmation: passwordField(),
});

export function passwordChangeRouter(deps: PasswordChangeDependencies): Router {
  const users = new UserRepository(deps.db);
  const router = new Router({ prefix: '/account/password' });
  const guard = deps.access.require();

  const show = (ctx: Context, errors: PasswordErrors = {}, status = 200, retryAfter?: number) => {
    const { user } = ctx.state['account'] as SignedInAccount;
    return deps.pages.render(
      ctx,
      'account-password',
      { user, errors, retryAfter, minLength: deps.config.minPasswordLength },
      status,
    );
  };

  router.get('/', guard, async (ctx) => show(ctx));

  router.post('/', guard, async (ctx) => {
    const { user, sessionUid } = ctx.state['account'] as SignedInAccount;
    const t = translator(deps.pages.localeOf(ctx));
    if (!user.password_hash) return show(ctx, { current: t('account.password.error.no_password') }, 400);
    const form = readForm(ctx, passwordChangeForm);
    const { current_password: current, password, password_confirmation: confirmation } = form;

    const decision = await deps.throttle.check(user.email, ctx.ip);
    if (!decision.allowed) {
      ctx.set('Retry-After', String(decision.retryAfterSeconds));
      return show(
        ctx,
        { current: t('login.error.throttled', { count: decision.retryAfterSeconds }) },
        429,
        decision.retryAfterSeconds,
      );
    }
    if (!(await verifyPassword(user.password_hash, current))) {
      await deps.throttle.recordFailure(user.email, ctx.ip);
      deps.logger.info({ event: 'account.password_change_refused', accountId: user.id }, 'wrong current password');
      return show(ctx, { current: t('account.password.error.current') }, 400);
    }
    await deps.throttle.recordSuccess(user.email, ctx.ip);
    const errors: PasswordErrors = {};
    if (!password) errors.password = t('signup.error.password_required');
    else {
      // The account page is Umbral's own portal: its name is the product's.
      const verdict = checkPassword(password, {
        email: user.email,
        minLength: deps.config.minPasswordLength,
        productName: deps.config.productName,
      });
      if (!verdict.ok) errors.password = t(verdict.messageKey, verdict.vars);
      else if (password === current) errors.password = t('account.password.error.same');
      else if (confirmation !== password) errors.password_confirmation = t('signup.error.password_mismatch');
    }
    if (Object.keys(errors).length) return show(ctx, errors, 400);

    await users.changePassword(user.id, await hashPassword(password));
    const ended = await deps.terminator.endOthers(user.id, sessionUid, 'password_changed');
    deps.logger.info(
      { event: 'account.password_changed', accountId: user.id, endedSessions: ended },
      'password changed from the account page',
    );
    deps.audit?.record({
      type: 'password.changed',
      actor: { kind: 'user', id: user.id },
      subjectUserId: user.id,
      ...originOf(ctx),
      data: { via: 'account_page', endedSessions: ended },
    });
    const locale = preferredLocale(user.locale, deps.pages.localeOf(ctx));
    await enqueueQuietly(deps.mailer, deps.logger, {
      to: user.email,
      template: 'password-changed',
      locale,
      data: {
        email: user.email,
        changedAt: formatInstant(new Date(), locale, personTimeZone(user.time_zone, ctx.get('accept-language'))),
        forgotUrl: `${deps.config.issuer}/password/forgot`,
      },
    });
    seeOther(ctx, '/account?saved=password');
  });

  return router;
}
