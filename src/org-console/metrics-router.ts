import Router from '@koa/router';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { formFields, readForm, seeOther } from '../http/form.ts';
import { translator } from '../i18n/i18n.ts';
import { membersCsv, membersForExport } from '../organizations/members-csv.ts';
import { organizationMetrics } from '../organizations/organization-metrics.ts';
import { signInsChartSvg } from '../organizations/sign-ins-chart.ts';
import type { WeeklySummaryPreferences } from '../organizations/weekly-summary-preferences.ts';
import type { Database } from '../storage/schema.ts';
import { type ConsoleAccess, visitOf } from './console-access.ts';
import { type ConsolePages, roleLabel } from './console-pages.ts';
import type { LastSignIns } from './member-list.ts';

const METHODS = ['password', 'passkey', 'google', 'microsoft'] as const;
const summaryForm = z.object({ weekly_summary: formFields.text() });

/**
 * /org/metrics: the organization's use (insights' organizationMetrics), its sign-ins per day as
 * a server-drawn SVG with the same figures in a table beside it; /org/members.csv: the members
 * with their last sign-in, headed in the reader's language; /org/weekly-summary turns the admin's
 * own weekly summary email on or off.
 */
export function metricsRouter(deps: {
  db: Kysely<Database>;
  access: ConsoleAccess;
  pages: ConsolePages;
  signIns: LastSignIns;
  summaries: Pick<WeeklySummaryPreferences, 'isOn' | 'set'>;
}): Router {
  const router = new Router({ prefix: '/org' });
  const guard = deps.access.require();

  router.get('/metrics', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const locale = deps.pages.localeOf(ctx);
    const t = translator(locale);
    const metrics = await organizationMetrics(deps.db, visit.organization.id, visit.now);
    const dayFormat = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' });
    const day = (ymd: string) => dayFormat.format(new Date(`${ymd}T00:00:00Z`));
    const total = metrics.signInsPerDay.reduce((sum, d) => sum + d.count, 0);
    const busiest = metrics.signInsPerDay.reduce((best, d) => (d.count > best.count ? d : best), {
      day: '',
      count: 0,
    });
    const chart = signInsChartSvg(metrics.signInsPerDay, {
      title: t('org_console.metrics.chart_title'),
      description: busiest.count
        ? t('org_console.metrics.chart_description', { total, max: busiest.count, day: day(busiest.day) })
        : t('org_console.metrics.chart_empty'),
      day,
      bar: (count, text) => t('org_console.metrics.chart_bar', { count, day: text }),
    });
    const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
    await deps.pages.render(ctx, 'metrics', 'org-metrics', {
      metrics,
      chart,
      total,
      days: metrics.signInsPerDay.map((d) => ({ ...d, text: day(d.day) })).reverse(),
      share: percent.format(metrics.secondFactor.share),
      weeklySummary: await deps.summaries.isOn(visit.organization.id, visit.account.user.id),
      methods: METHODS.map((method) => ({
        label: t(`org_console.method.${method}`),
        count: metrics.methods[method],
        share: percent.format(total ? metrics.methods[method] / total : 0),
      })),
    });
  });

  router.post('/weekly-summary', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const on = readForm(ctx, summaryForm).weekly_summary === 'on';
    const userId = visit.account.user.id;
    if ((await deps.summaries.isOn(visit.organization.id, userId)) !== on) {
      await deps.summaries.set(visit.organization.id, userId, on);
      deps.pages.record(ctx, 'weekly_summary_changed', { subjectUserId: userId, data: { on } });
    }
    seeOther(ctx, `/org/metrics${visit.orgQuery}&done=${on ? 'summary_on' : 'summary_off'}`);
  });

  router.get('/members.csv', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const t = translator(deps.pages.localeOf(ctx));
    const rows = await membersForExport(deps.db, deps.signIns, visit.organization.id, {
      active: t('org_console.members.status.active'),
      excluded: t('org_console.members.status.excluded'),
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Disposition', `attachment; filename="${visit.organization.slug}-members.csv"`);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = membersCsv(
      rows.map((row) => ({ ...row, roles: row.roles.map((role) => roleLabel(t, role)) })),
      {
        email: t('org_console.members.col.email'),
        name: t('org_console.members.col.name'),
        roles: t('org_console.members.col.roles'),
        status: t('org_console.members.col.status'),
        lastSignIn: t('org_console.members.col.last_sign_in'),
      },
    );
  });

  return router;
}
