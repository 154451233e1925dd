import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config/config.ts';
import { seeOther } from '../http/form.ts';
import { translator } from '../i18n/i18n.ts';
import {
  type CompanyFormResult,
  type CompanyFormValues,
  checkCompanyForm,
  companyFormOptions,
  companyFormValues,
  companyFormValuesOf,
  organizationFieldsOf,
} from '../organizations/company-form.ts';
import { TaxIdTakenError } from '../organizations/organization-errors.ts';
import type { OrganizationRepository } from '../organizations/organizations.ts';
import { taxIdName } from '../organizations/tax-ids.ts';
import type { OrganizationRow } from '../storage/schema.ts';
import { type ConsoleAccess, visitOf } from './console-access.ts';
import type { ConsolePages } from './console-pages.ts';

type Refusal = Extract<CompanyFormResult, { ok: false }>;

/**
 * /org/company: the company's data (country, legal name, tax id, size, segment, address) in the
 * company step's own form (views/partials/company-fields.ejs, src/organizations/company-form.ts):
 * every field checked at once, each refusal next to its field, values kept; a tax id another
 * company holds is refused without naming it.
 */
export function companyRouter(deps: {
  config: Pick<Config, 'companySegments'>;
  access: ConsoleAccess;
  pages: ConsolePages;
  orgs: OrganizationRepository;
}): Router {
  const router = new Router({ prefix: '/org/company' });
  const guard = deps.access.require();

  async function show(ctx: Context, values: CompanyFormValues, refusal?: Refusal) {
    const locale = deps.pages.localeOf(ctx);
    const t = translator(locale);
    await deps.pages.render(
      ctx,
      'company',
      'org-company',
      {
        values,
        errors: refusal?.errors ?? {},
        warnings: refusal?.warnings ?? {},
        confirmedTaxId: refusal?.confirmTaxId,
        options: companyFormOptions(locale, deps.config.companySegments, t),
      },
      refusal ? 400 : 200,
    );
  }

  router.get('/', guard, async (ctx) => show(ctx, companyFormValuesOf(visitOf(ctx).organization)));

  router.post('/', guard, async (ctx) => {
    const visit = visitOf(ctx);
    const t = translator(deps.pages.localeOf(ctx));
    const values = companyFormValues((ctx.request as { body?: unknown }).body);
    const checked = checkCompanyForm(values, deps.config.companySegments, t);
    if (!checked.ok) return show(ctx, values, checked);
    const { company } = checked;
    const before = visit.organization;
    try {
      await deps.orgs.update(before.id, organizationFieldsOf(company));
    } catch (error) {
      if (!(error instanceof TaxIdTakenError)) throw error;
      const name = taxIdName(company.country) ?? t('org_console.company.tax_id');
      return show(ctx, values, {
        ok: false,
        errors: { tax_id: t('org_console.company.tax_id_taken', { name }) },
        warnings: {},
      });
    }
    const after: Record<string, unknown> = {
      country: company.country,
      tax_id: company.taxId,
      legal_name: company.legalName,
      employee_band: company.employeeBand,
      segment: company.segment,
      postal_code: company.postalCode,
      address_line: company.addressLine,
      address_number: company.addressNumber,
      address_complement: company.addressComplement,
    };
    const changed = Object.keys(after).filter((key) => after[key] !== before[key as keyof OrganizationRow]);
    deps.pages.record(ctx, 'company_updated', { data: { changed } });
    seeOther(ctx, `/org/company${visit.orgQuery}&done=company_saved`);
  });

  return router;
}
