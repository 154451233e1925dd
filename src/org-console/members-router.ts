import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { formFields, readForm, seeOther } from '../http/form.ts';
import { translator } from '../i18n/i18n.ts';
import type { MemberAdministration } from '../organizations/member-administration.ts';
import type { RoleRepository } from '../organizations/roles.ts';
import { type ConsoleAccess, visitOf } from './console-access.ts';
import { type ConsolePages, refusalKey, roleLabel, roleOptions, shortInstant } from './console-pages.ts';
import { MAX_SEARCH_LENGTH, type MemberList, type MemberRow } from './member-list.ts';

/** Checkboxes sharing a name: one value is a string, several an array, none nothing. */
const rolesForm = z.object({
  roles: z.preprocess(
    (value) => (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []),
    z.array(z.string()),
  ),
});
const adminForm = z.object({ admin: formFields.text() });
/** Excluding ends the person's portal sessions at once: the box says so and must be ticked. */
const excludeForm = z.object({ confirm: formFields.checkbox() });

/**
 * The collaborators: /org lists them (search, pages), /org/members/<id> shows one with the forms
 * that change their roles, designate or remove them as admin, exclude them or include them again.
 */
export function membersRouter(deps: {
  access: ConsoleAccess;
  pages: ConsolePages;
  members: MemberList;
  roles: RoleRepository;
  admin: MemberAdministration;
}): Router {
  const router = new Router({ prefix: '/org' });
  const guard = deps.access.require();

  router.get('/', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const locale = deps.pages.localeOf(ctx);
    const t = translator(locale);
    const search = typeof ctx.query['q'] === 'string' ? ctx.query['q'].slice(0, MAX_SEARCH_LENGTH) : '';
    const page = Number.parseInt(typeof ctx.query['page'] === 'string' ? ctx.query['page'] : '1', 10) || 1;
    const list = await deps.members.page(visit.organization.id, { search, page });
    const pageHref = (n: number) =>
      `/org${visit.orgQuery}${search ? `&q=${encodeURIComponent(search)}` : ''}&page=${n}`;
    await deps.pages.render(ctx, 'members', 'org-members', {
      search,
      list,
      rows: list.rows.map((row) => describe(row, t, locale, visit.orgQuery)),
      previous: list.page > 1 ? pageHref(list.page - 1) : undefined,
      next: list.page < list.pages ? pageHref(list.page + 1) : undefined,
    });
  });

  /** The member named in the path, or a 404 page: another organization's people are not found here. */
  async function memberOf(ctx: Context): Promise<MemberRow | undefined> {
    const member = await deps.members.member(visitOf(ctx).organization.id, String(ctx.params['userId']));
    if (!member) ctx.throw(404);
    return member;
  }

  /** The member's page; after a refused form, with its error, status and what was ticked. */
  async function show(
    ctx: Context,
    member: MemberRow,
    refused: { error?: string; status?: number; checked?: string[]; excludeUnconfirmed?: boolean } = {},
  ) {
    const { error, status = 200, checked, excludeUnconfirmed = false } = refused;
    const locale = deps.pages.localeOf(ctx);
    const t = translator(locale);
    await deps.pages.render(
      ctx,
      'members',
      'org-member',
      {
        member: describe(member, t, locale, visitOf(ctx).orgQuery),
        roleOptions: roleOptions(t, await deps.roles.list()),
        checked: checked ?? member.roles,
        error,
        excludeUnconfirmed,
        isSelf: member.userId === visitOf(ctx).account.user.id,
      },
      status,
    );
  }

  router.get('/members/:userId', guard, async (ctx) => {
    const member = await memberOf(ctx);
    if (member) await show(ctx, member);
  });

  router.post('/members/:userId/roles', guard, async (ctx) => {
    const member = await memberOf(ctx);
    if (!member) return;
    const { roles } = readForm(ctx, rolesForm);
    try {
      const saved = await deps.admin.setRoles(visitOf(ctx).organization, member.userId, roles);
      deps.pages.record(ctx, 'member_roles_changed', {
        subjectUserId: member.userId,
        data: { before: member.roles, after: saved },
      });
    } catch (error) {
      return show(ctx, member, { error: refusalKey(error), status: 400, checked: roles.slice(0, 50) });
    }
    seeOther(ctx, `/org/members/${encodeURIComponent(member.userId)}${visitOf(ctx).orgQuery}&done=roles_saved`);
  });

  router.post('/members/:userId/admin', guard, async (ctx) => {
    const member = await memberOf(ctx);
    if (!member) return;
    const admin = readForm(ctx, adminForm).admin === 'on';
    try {
      const saved = await deps.admin.setAdmin(visitOf(ctx).organization, member.userId, admin);
      deps.pages.record(ctx, admin ? 'admin_designated' : 'admin_removed', {
        subjectUserId: member.userId,
        data: { before: member.roles, after: saved },
      });
    } catch (error) {
      return show(ctx, member, { error: refusalKey(error), status: 409 });
    }
    seeOther(ctx, `/org/members/${encodeURIComponent(member.userId)}${visitOf(ctx).orgQuery}&done=roles_saved`);
  });

  router.post('/members/:userId/exclude', guard, async (ctx) => {
    const member = await memberOf(ctx);
    if (!member) return;
    if (!readForm(ctx, excludeForm).confirm) return show(ctx, member, { status: 400, excludeUnconfirmed: true });
    try {
      const portalSessions = await deps.admin.exclude(visitOf(ctx).organization, member.userId);
      deps.pages.record(ctx, 'member_excluded', {
        subjectUserId: member.userId,
        data: { roles: member.roles, portalSessions },
      });
    } catch (error) {
      return show(ctx, member, { error: refusalKey(error), status: 409 });
    }
    seeOther(ctx, `/org/members/${encodeURIComponent(member.userId)}${visitOf(ctx).orgQuery}&done=excluded`);
  });

  router.post('/members/:userId/include', guard, async (ctx) => {
    const member = await memberOf(ctx);
    if (!member) return;
    try {
      const roles = await deps.admin.include(visitOf(ctx).organization, member.userId);
      deps.pages.record(ctx, 'member_included', { subjectUserId: member.userId, data: { roles } });
    } catch (error) {
      return show(ctx, member, { error: refusalKey(error), status: 409 });
    }
    seeOther(ctx, `/org/members/${encodeURIComponent(member.userId)}${visitOf(ctx).orgQuery}&done=included`);
  });

  return router;
}

/** A member as a row reads: labels in the reader's language. */
function describe(
  row: MemberRow,
  t: ReturnType<typeof translator>,
  locale: Parameters<typeof shortInstant>[1],
  orgQuery: string,
) {
  return {
    ...row,
    href: `/org/members/${encodeURIComponent(row.userId)}${orgQuery}`,
    roleLabels: row.roles.map((role) => roleLabel(t, role)),
    isAdmin: row.roles.includes('admin'),
    lastSignInText: row.lastSignIn ? shortInstant(row.lastSignIn, locale) : t('org_console.members.never'),
    methodLabels: row.methods.map((method) => t(`org_console.method.${method}`)),
  };
}
