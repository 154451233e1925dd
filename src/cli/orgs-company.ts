import { requireTaxId } from '../organizations/company-checks.ts';
import type { CompanyColumns } from '../organizations/company-columns.ts';
import { parseSegment } from '../organizations/company-input.ts';
import type { Organization } from '../organizations/organizations.ts';
import { formatTaxId, taxIdName } from '../organizations/tax-ids.ts';
import { CliInputError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { type OrgsContext, parsed } from './orgs-support.ts';

/** What `orgs add` and `orgs update` check of the company data once the configuration and database are open. */

/** `--segment` is one of the deployment's COMPANY_SEGMENTS. */
export function checkSegment(c: OrgsContext, fields: { segment?: string | null | undefined }): void {
  if (typeof fields.segment === 'string') {
    const segment = fields.segment;
    fields.segment = parsed(() => parseSegment(segment, c.context.config.companySegments));
  }
}

/** One tax id, one company; the operator is told which company has it (the model refuses it too). */
export async function assertTaxIdFree(
  c: OrgsContext,
  country: string | null,
  taxId: string | null | undefined,
  own: Organization | undefined,
): Promise<void> {
  if (!country || !taxId) return;
  const holder = await c.orgs.withTaxId(country, taxId);
  if (holder && holder.row.id !== own?.row.id) {
    throw new CliInputError(
      `${taxIdName(country) ?? 'tax id'} ${formatTaxId(country, taxId)} is already registered to ${holder.row.name} (${holder.row.slug}): one tax id, one company`,
    );
  }
}

/** Accepted with a second look worth taking (an RFC whose check digit does not match): said on stderr. */
export function warnAboutTaxId(io: CliIo, country: string | null, company: CompanyColumns): void {
  if (!country || !company.tax_id) return;
  const { warning } = requireTaxId(country, company.tax_id);
  if (warning) io.stderr.write(`warning: ${warning}\n`);
}
