import type { Context, Middleware } from 'koa';
import { type AuditTrail, originOf } from '../audit/audit-event.ts';
import type { PageRenderer } from '../http/page-renderer.ts';
import { type Translate, translator } from '../i18n/i18n.ts';
import type { Logger } from '../logging/logger.ts';
import { operatorOf } from './operator-access.ts';

/** The parts of the console, in the order of its navigation; each is /admin/<section>. */
export const SECTIONS = ['portals', 'users', 'organizations', 'audit', 'webhooks', 'keys'] as const;
export type ConsoleSection = (typeof SECTIONS)[number];

/** What every console router gets. */
export interface ConsoleKit {
  pages: PageRenderer;
  logger: Logger;
  /** Signed in, an operator, with a passkey or authenticator app (operator-access.ts). */
  guard: Middleware;
  /** Also a sign-in less than five minutes old: destructive actions. */
  fresh: Middleware;
  render(
    ctx: Context,
    section: ConsoleSection | 'home',
    view: string,
    locals?: Record<string, unknown>,
    status?: number,
  ): Promise<void>;
  /** Records a console action in the audit log with the operator as actor. */
  record(
    ctx: Context,
    type: string,
    event?: { subjectUserId?: string | undefined; organizationId?: string | undefined; data?: Record<string, unknown> },
  ): void;
  t(ctx: Context): Translate;
}

/** Instants on console pages: "1 dic 2026, 15:04 UTC" (operators in several time zones read one clock). */
export function instantFormat(locale: string): (at: Date | string | null | undefined) => string {
  const format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return (at) => (at ? `${format.format(new Date(at))} UTC` : '—');
}

export function consoleKit(deps: {
  pages: PageRenderer;
  logger: Logger;
  audit: AuditTrail;
  guard: Middleware;
  fresh: Middleware;
  sections: readonly ConsoleSection[];
}): ConsoleKit {
  return {
    pages: deps.pages,
    logger: deps.logger,
    guard: deps.guard,
    fresh: deps.fresh,
    render: (ctx, section, view, locals = {}, status = 200) =>
      deps.pages.render(
        ctx,
        view,
        {
          operator: operatorOf(ctx).user,
          section,
          sections: deps.sections,
          when: instantFormat(deps.pages.localeOf(ctx)),
          ...locals,
        },
        status,
      ),
    record(ctx, type, event = {}) {
      const operator = operatorOf(ctx).user;
      deps.audit.record({
        type,
        actor: { kind: 'operator', id: operator.id },
        subjectUserId: event.subjectUserId,
        organizationId: event.organizationId,
        ...originOf(ctx),
        data: { via: 'console', operatorEmail: operator.email, ...event.data },
      });
      deps.logger.info({ event: type, operator: operator.id, subjectUserId: event.subjectUserId }, 'console action');
    },
    t: (ctx) => translator(deps.pages.localeOf(ctx)),
  };
}
